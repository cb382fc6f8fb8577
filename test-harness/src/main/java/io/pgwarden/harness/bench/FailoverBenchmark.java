package io.pgwarden.harness.bench;

import static org.awaitility.Awaitility.await;

import io.pgwarden.common.json.Json;
import io.pgwarden.harness.cluster.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Power-off failover, measured as an operator feels it: a writer inserts every 20 ms through the
 * multi-host connection string; the primary's agent and postmaster are SIGKILLed together; the gap
 * is the time from the last acknowledged insert before the kill to the first one after it. Also
 * counts acknowledged rows missing on the new primary. Prints min/median/max; writes JSON and Markdown.
 */
public final class FailoverBenchmark {
  public record Run(int run, long gapMs, long lostRows, long acked, String from, String to) {}

  public record Result(String settings, int nodes, List<Run> runs, long minMs, long medianMs, long maxMs, long lost,
      String machine, String at) {}

  private FailoverBenchmark() {}

  public static Result run(int runs, int nodes, Map<String, Object> dynamic, String label) throws Exception {
    List<Run> out = new ArrayList<>();
    for (int i = 1; i <= runs; i++) {
      try (TestCluster c = TestCluster.start(nodes, dynamic)) {
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).until(c::healthy);
        String from = c.leader().orElseThrow();
        try (Writer w = new Writer(c, 20)) {
          await().atMost(Duration.ofSeconds(30)).until(() -> w.acks().size() >= 50);
          c.powerOff(from);
          // After both processes are gone: an insert the old primary acknowledged while kill(1) was being
          // spawned is before the fault; counting it as after made the gap look like one writer tick.
          long kill = System.nanoTime();
          await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100)).until(() -> w.ackedAfter(kill));
          w.close();
          String to = c.leader().orElse("?");
          List<Writer.Ack> acks = w.acks();
          long present = Long.parseLong(c.queryColumn(to, "SELECT count(*) FROM bench_writes WHERE id <= "
              + acks.get(acks.size() - 1).id() + " AND id IN (" + acks.stream().map(a -> Long.toString(a.id()))
              .collect(Collectors.joining(",")) + ")").get(0));
          Run r = new Run(i, w.gapMillis(kill), acks.size() - present, acks.size(), from, to);
          System.out.println("failover run " + i + ": " + r);
          out.add(r);
        }
      }
    }
    List<Long> gaps = out.stream().map(Run::gapMs).sorted().toList();
    long median = gaps.size() % 2 == 1 ? gaps.get(gaps.size() / 2)
        : (gaps.get(gaps.size() / 2 - 1) + gaps.get(gaps.size() / 2)) / 2;
    return new Result(label, nodes, out, gaps.get(0), median, gaps.get(gaps.size() - 1),
        out.stream().mapToLong(Run::lostRows).sum(), machine(), Instant.now().toString());
  }

  public static String markdown(List<Result> results) {
    StringBuilder b = new StringBuilder();
    b.append("| settings | nodes | runs | gap min ms | gap median ms | gap max ms | acknowledged rows lost |\n");
    b.append("| --- | --- | --- | --- | --- | --- | --- |\n");
    for (Result r : results) {
      b.append("| ").append(r.settings()).append(" | ").append(r.nodes()).append(" | ").append(r.runs().size())
          .append(" | ").append(r.minMs()).append(" | ").append(r.medianMs()).append(" | ").append(r.maxMs())
          .append(" | ").append(r.lost()).append(" |\n");
    }
    return b.toString();
  }

  public static void write(Path dir, String name, List<Result> results) throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(name + ".json"), Json.writePretty(results));
    Files.writeString(dir.resolve(name + ".md"), markdown(results));
  }

  static String machine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    m.put("java", System.getProperty("java.version"));
    return m.toString();
  }
}
