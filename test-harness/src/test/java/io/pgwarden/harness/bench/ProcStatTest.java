package io.pgwarden.harness.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against this JVM's own /proc entries and real child processes: what the idle benchmark reads. */
class ProcStatTest {
  private static final long SELF = ProcessHandle.current().pid();
  private static final Duration SPIN = Duration.ofMillis(200);

  @Test
  void aCommWithSpacesAndParenthesesDoesNotShiftTheFields() {
    String stat = "4242 (a) b (c) S 17 4242 4242 0 -1 4194560 1 0 0 0 7 3 0 0 20 0 1 0 1 0 0";

    assertThat(ProcStat.statComm(stat)).isEqualTo("a) b (c");
    assertThat(ProcStat.statFields(stat)[1]).isEqualTo("17");
    assertThat(ProcStat.statFields(stat)[11]).isEqualTo("7");
    assertThat(ProcStat.statFields(stat)[12]).isEqualTo("3");
  }

  @Test
  void postgresAndWhatItStartedAreNotHelpers() {
    // 1 -> 2 (bash) -> 3 (sleep); 1 -> 4 (postgres) -> 5 (postgres) -> 6 (sh: an archive_command)
    Map<Long, List<Long>> children = Map.of(1L, List.of(2L, 4L), 2L, List.of(3L), 4L, List.of(5L), 5L, List.of(6L));
    Map<Long, String> comm = Map.of(2L, "bash", 3L, "sleep", 4L, "postgres", 5L, "postgres", 6L, "sh");

    assertThat(ProcStat.descendants(1, children, comm)).containsExactlyInAnyOrder(2L, 3L);
  }

  @Test
  void aChildIsAHelperUnlessItIsPostgres(@TempDir Path dir) throws Exception {
    Path sleep = Path.of("/bin/sleep");
    Path postgres = Files.copy(sleep, dir.resolve("postgres"), StandardCopyOption.COPY_ATTRIBUTES);
    Process helper = new ProcessBuilder(sleep.toString(), "60").start();
    Process database = new ProcessBuilder(postgres.toString(), "60").start();
    try {
      List<Long> helpers = ProcStat.helperProcesses(SELF);

      assertThat(helpers).contains(helper.pid()).doesNotContain(database.pid());
      assertThat(ProcStat.rssMiB(helper.pid())).isPositive();
      assertThat(ProcStat.pssMiB(helper.pid())).isPositive().isLessThanOrEqualTo(ProcStat.rssMiB(helper.pid()));
    } finally {
      helper.destroyForcibly();
      database.destroyForcibly();
    }
  }

  @Test
  void theMeterCountsAThreadThatStartedInTheWindowAndKeepsItAfterItEnded() throws Exception {
    ProcStat.RuntimeMeter meter = new ProcStat.RuntimeMeter(SELF);
    long before = meter.nanos();
    CountDownLatch spun = new CountDownLatch(1);
    CountDownLatch sampled = new CountDownLatch(1);
    Thread busy = new Thread(() -> {
      ThreadMXBean mx = ManagementFactory.getThreadMXBean();
      long x = 0;
      while (mx.getCurrentThreadCpuTime() < SPIN.toNanos()) {
        x += System.nanoTime() & 1;
      }
      Blackhole.sink = x;
      spun.countDown();
      try {
        sampled.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    busy.start();
    assertThat(spun.await(60, TimeUnit.SECONDS)).isTrue();
    meter.sample();
    sampled.countDown();
    busy.join(60_000);
    meter.sample();

    assertThat(before).isZero();
    assertThat(busy.isAlive()).isFalse();
    assertThat(meter.nanos()).isGreaterThanOrEqualTo(SPIN.toNanos());
  }

  @Test
  void aProcessThatIsGoneReadsAsNothing() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    long pid = p.pid();

    assertThat(ProcStat.threadRuntimes(pid)).isEmpty();
    assertThat(ProcStat.rssMiB(pid)).isZero();
    assertThat(ProcStat.helperProcesses(pid)).isEmpty();
  }

  @Test
  void aMeterKnowsItsProcessByStartTimeAndStopsWhenItEnds() throws Exception {
    Process p = new ProcessBuilder("sleep", "60").start();
    try {
      ProcStat.RuntimeMeter meter = new ProcStat.RuntimeMeter(p.pid());
      assertThat(ProcStat.startTicks(p.pid())).isPositive()
          .isGreaterThanOrEqualTo(ProcStat.startTicks(ProcessHandle.current().pid()));
      assertThat(meter.same()).isTrue();
      p.destroy();
      p.waitFor();
      assertThat(meter.same()).isFalse();
      meter.sample();
      assertThat(meter.nanos()).isGreaterThanOrEqualTo(0);
    } finally {
      p.destroyForcibly();
    }
  }

  private static final class Blackhole {
    static volatile long sink;
  }
}
