package io.pgwarden.agent.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BootClockTest {
  @Test
  void parsesUptimeIntoCentiseconds() {
    assertThat(BootClock.parseUptime("350735.47 1388945.89\n")).isEqualTo(35_073_547L);
    assertThat(BootClock.parseUptime("0.05 0.00")).isEqualTo(5L);
    assertThatThrownBy(() -> BootClock.parseUptime("12 34")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theRealClockMovesForward() {
    long a = BootClock.PROC_UPTIME.centis();
    assertThat(a).isPositive();
    // Read again through the same descriptor: the text is made afresh, not the first reading's.
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> BootClock.PROC_UPTIME.centis() > a);
  }

  @Test
  void deadlinesRoundDownAndOneTickEarly() {
    // The watchdog's reading lags the true time by up to a centisecond: it must still fire in time.
    assertThat(BootClock.deadline(1000, Duration.ofMillis(3000))).isEqualTo(1299);
    assertThat(BootClock.deadline(1000, Duration.ofMillis(3009))).isEqualTo(1299);
    assertThat(BootClock.deadline(1000, Duration.ofMillis(5))).isEqualTo(999);
  }

  @Test
  void noTimeLeftIsAlreadyPast() {
    assertThat(BootClock.deadline(1000, Duration.ZERO)).isLessThan(1000);
    assertThat(BootClock.deadline(1000, Duration.ofSeconds(-1))).isLessThan(1000);
  }

  @Test
  void stoppedStateIsReadAfterTheLastParenthesis() {
    assertThat(Watchdog.stoppedState("123 (bash) S 1 123 123 0")).isFalse();
    assertThat(Watchdog.stoppedState("123 (bash) T 1 123 123 0")).isTrue();
    assertThat(Watchdog.stoppedState("123 (a) T (b)) R 1 2")).isFalse();
    assertThat(Watchdog.stoppedState("123 (x) t 1")).isTrue();
    assertThat(Watchdog.stoppedState("garbage")).isFalse();
  }

  @Test
  void aStoppedProcessIsSeenAsStopped() throws Exception {
    Process p = new ProcessBuilder("sleep", "60").start();
    // One descriptor throughout, as the watchdog keeps it: each read must show the state of that moment.
    ProcFile stat = new ProcFile(java.nio.file.Path.of("/proc/" + p.pid() + "/stat"));
    try {
      assertThat(Watchdog.stopped(stat)).isFalse();
      assertThat(Watchdog.stopped(stat)).isFalse();
      new ProcessBuilder("kill", "-STOP", Long.toString(p.pid())).start().waitFor();
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> Watchdog.stopped(stat));
      new ProcessBuilder("kill", "-CONT", Long.toString(p.pid())).start().waitFor();
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !Watchdog.stopped(stat));
    } finally {
      p.destroyForcibly();
      stat.close();
    }
  }
}
