package io.pgwarden.harness.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The idle footprint of each tool over a cluster's first half hour, every tool's cluster running at once (issue 6).
 * A JVM agent's idle cost falls as its loop's code gets compiled, while a Python agent's does not change, so one
 * 60-s window just after start compares a warming JVM with a warm interpreter. Here all selected clusters start,
 * and idle windows open on all of them together at set minutes after the last one is ready: each window compares
 * the tools in the same minute of this noisy machine, and the windows show how each tool's cost moves with time.
 * Not part of the default build:
 * <pre>
 * mvn -B -o verify -pl test-harness -am -Pbench -Dtest=NoUnitTests -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dit.test=IdleOverTimeBench -Dfailsafe.failIfNoSpecifiedTests=false
 * </pre>
 * -Dbench.windows=M1,M2,... (default 1,5,10,20,30: minutes after all clusters are ready at which a window opens),
 * -Dbench.idle=SECONDS (default 60, each window's length), -Dbench.scenarios=a,b (default all of pgwarden,
 * patroni-equal, pgwarden-patroni-timing, patroni; the Patroni ones only when {@code patroni} is on PATH),
 * -Dbench.name=NAME (default idle-over-time), -Dbench.baselineJar=JAR (also a cluster of another agent build at
 * pgwarden's defaults, e.g. the one before a change, in the same windows; its class-data archive is made from this
 * build's class list). Writes target/bench/NAME.{json,md} after every window, and
 * NAME-summary.md, one row per cluster and one column per window.
 */
class IdleOverTimeBench {
  private record Running(String scenario, String settings, BenchCluster cluster, long readyNanos) {}

  /** One window of one cluster, and which of its agents led during it (-1: none or it changed). */
  record Cell(SideBySide.Idle idle, int leaderIndex) {}

  @Test
  void idleOverTime() throws Exception {
    int seconds = Integer.getInteger("bench.idle", 60);
    int[] windows = Arrays.stream(System.getProperty("bench.windows", "1,5,10,20,30").split(","))
        .mapToInt(s -> Integer.parseInt(s.strip())).toArray();
    for (int i = 1; i < windows.length; i++) {
      if (windows[i] * 60 < windows[i - 1] * 60 + seconds) {
        throw new IllegalArgumentException("bench.windows: window at minute " + windows[i]
            + " would open before the one at minute " + windows[i - 1] + " closes (" + seconds + " s each)");
      }
    }
    Set<String> scenarios = Set.of(System.getProperty("bench.scenarios",
        "pgwarden,patroni-equal,pgwarden-patroni-timing,patroni").split(","));
    boolean patroni = PatroniCluster.installed();
    String name = System.getProperty("bench.name", "idle-over-time");

    List<SideBySide.Bootstrap> boot = new ArrayList<>();
    List<SideBySide.Idle> idle = new ArrayList<>();
    List<Running> running = new ArrayList<>();
    Map<String, Map<Integer, Cell>> byCluster = new LinkedHashMap<>();
    try {
      start(running, boot, scenarios.contains("pgwarden"), "pgwarden", SideBySideBench.PGW_DEFAULTS,
          () -> PgwardenCluster.start(Map.of()));
      String baseline = System.getProperty("bench.baselineJar");
      if (baseline != null) {
        // Another build of the agent (e.g. the one before a change) in the same windows: the measure of a change.
        start(running, boot, true, "pgwarden-baseline", SideBySideBench.baselineLabel(baseline),
            () -> SideBySideBench.startBaseline(baseline));
      }
      start(running, boot, patroni && scenarios.contains("patroni-equal"), "patroni-equal", SideBySideBench.PAT_EQUAL,
          () -> PatroniCluster.start(3, SideBySideBench.PAT_EQUAL_CONFIG));
      start(running, boot, scenarios.contains("pgwarden-patroni-timing"), "pgwarden-patroni-timing",
          SideBySideBench.PGW_AT_PATRONI, () -> PgwardenCluster.start(SideBySideBench.PGW_AT_PATRONI_CONFIG));
      start(running, boot, patroni && scenarios.contains("patroni"), "patroni", SideBySideBench.PAT_DEFAULTS,
          () -> PatroniCluster.start(3, Map.of()));
      if (running.isEmpty()) {
        throw new IllegalArgumentException("bench.scenarios: none of " + scenarios + " can run here");
      }
      long allReady = System.nanoTime();
      for (int minute : windows) {
        long wait = allReady + minute * 60_000_000_000L - System.nanoTime();
        if (wait > 0) {
          // The point in the clusters' lives that is measured, not synchronisation.
          Thread.sleep(wait / 1_000_000);
        }
        List<SideBySide.IdleWindow> open = new ArrayList<>();
        List<java.util.Optional<String>> leaders = new ArrayList<>();
        for (Running r : running) {
          SideBySide.awaitReady(r.cluster(), r.scenario() + " ready before the window at minute " + minute);
        }
        for (Running r : running) {
          double age = (System.nanoTime() - r.readyNanos()) / 60e9;
          leaders.add(r.cluster().leader());
          open.add(SideBySide.IdleWindow.open(r.cluster(), r.settings() + "; from " + Math.round(age * 10) / 10.0
              + " min after ready"));
        }
        for (int s = 0; s < seconds; s += 5) {
          open.forEach(SideBySide.IdleWindow::sample);
          Thread.sleep(5_000); // the sampling interval, not synchronisation
        }
        for (int i = 0; i < running.size(); i++) {
          SideBySide.Idle r = open.get(i).close(seconds);
          idle.add(r);
          BenchCluster c = running.get(i).cluster();
          java.util.Optional<String> leader = c.leader();
          int li = leader.isPresent() && leader.equals(leaders.get(i)) ? c.nodes().indexOf(leader.get()) : -1;
          byCluster.computeIfAbsent(running.get(i).scenario(), k -> new LinkedHashMap<>()).put(minute,
              new Cell(r, li));
        }
        write(name, seconds, windows, patroni, boot, idle, running, byCluster);
      }
    } finally {
      for (Running r : running) {
        try {
          r.cluster().close();
        } catch (Exception e) {
          System.out.println("closing " + r.scenario() + ": " + e);
        }
      }
    }
  }

  private static void start(List<Running> running, List<SideBySide.Bootstrap> boot, boolean selected, String scenario,
      String settings, Supplier<? extends BenchCluster> start) {
    if (selected) {
      BenchCluster c = SideBySide.bootstrap(start, settings, boot);
      running.add(new Running(scenario, settings, c, System.nanoTime()));
    }
  }

  private static void write(String name, int seconds, int[] windows, boolean patroni, List<SideBySide.Bootstrap> boot,
      List<SideBySide.Idle> idle, List<Running> running,
      Map<String, Map<Integer, Cell>> byCluster) throws Exception {
    String cmd = "mvn -B -o verify -pl test-harness -am -Pbench -Dtest=NoUnitTests -Dsurefire.failIfNoSpecifiedTests=false"
        + " -Dit.test=IdleOverTimeBench -Dfailsafe.failIfNoSpecifiedTests=false -Dbench.idle=" + seconds
        + " -Dbench.windows=" + String.join(",", Arrays.stream(windows).mapToObj(Integer::toString).toList())
        + (System.getProperty("bench.scenarios") == null ? "" : " -Dbench.scenarios=" + System.getProperty("bench.scenarios"))
        + (System.getProperty("bench.baselineJar") == null ? "" : " -Dbench.baselineJar="
            + System.getProperty("bench.baselineJar"));
    Path dir = Path.of("target", "bench");
    SideBySide.write(dir, name, new SideBySide.Report(SideBySideBench.environment(patroni, List.of()), cmd, boot, idle,
        List.of(), List.of()));
    Files.writeString(dir.resolve(name + "-summary.md"), summary(windows, running, byCluster));
  }

  /**
   * One row per cluster, one column per window: the agents' CPU in ms a minute (the leader's first, then the
   * replicas') and their highest RSS.
   */
  static String summary(int[] windows, List<Running> running, Map<String, Map<Integer, Cell>> byCluster) {
    StringBuilder b = new StringBuilder("| tool | settings |");
    StringBuilder rule = new StringBuilder("| --- | --- |");
    for (int m : windows) {
      b.append(" minute ").append(m).append(": CPU ms/min, leader; replicas · RSS MiB max |");
      rule.append(" --- |");
    }
    b.append('\n').append(rule).append('\n');
    for (Running r : running) {
      b.append("| ").append(r.cluster().tool()).append(" | ").append(r.settings()).append(" |");
      Map<Integer, Cell> row = byCluster.getOrDefault(r.scenario(), Map.of());
      for (int m : windows) {
        Cell cell = row.get(m);
        b.append(' ').append(cell == null ? "" : cell(cell)).append(" |");
      }
      b.append('\n');
    }
    return b.toString();
  }

  /** "leader; replica, replica · max RSS"; "?" for the leader when none held the key through the window. */
  static String cell(Cell cell) {
    List<Double> ms = cell.idle().cpuMsPerMin();
    List<String> replicas = new ArrayList<>();
    for (int k = 0; k < ms.size(); k++) {
      if (k != cell.leaderIndex()) {
        replicas.add(String.valueOf(ms.get(k)));
      }
    }
    return (cell.leaderIndex() < 0 ? "?" : String.valueOf(ms.get(cell.leaderIndex()))) + "; "
        + String.join(", ", replicas) + " · " + cell.idle().rssMiBMax();
  }
}
