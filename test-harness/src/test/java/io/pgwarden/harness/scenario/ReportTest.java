package io.pgwarden.harness.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.harness.invariant.Checker.CheckResult;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ReportTest {
  private static ScenarioResult row(Long failoverMs, int lost) {
    CheckResult c = new CheckResult(600, 3, 0, 2, 1, 1, 0, lost == 0 ? List.of() : List.of(7), List.of(), List.of(),
        true, Map.of(), 601);
    return new ScenarioResult("power off the primary", "on", 3,
        Optional.ofNullable(failoverMs).map(Duration::ofMillis), Optional.of(c), List.of(), true,
        Optional.of(Duration.ofSeconds(9)), "", null);
  }

  @Test
  void aRowShowsCountsAndVerdict() {
    String t = Report.markdown(List.of(row(13038L, 0), row(12000L, 1)));
    assertThat(t).contains("| power off the primary | on | 3 | 13038 | 600 | 0 | 2 (1) | 0 | 0 | 0 | no | yes | pass |");
    assertThat(t).contains("| 12000 | 600 | 1 |").contains("FAIL");
  }

  @Test
  void anAllowedLossIsCountedAndNamedNeverAPlainPass() {
    ScenarioResult lossy = row(12000L, 1);
    ScenarioResult allowed = new ScenarioResult(lossy.scenario(), "off", 3, lossy.failover(), lossy.check(), List.of(),
        true, lossy.convergedAfter(), "", null, true);
    assertThat(allowed.passed()).isTrue();
    assertThat(Report.markdown(List.of(allowed))).contains("| 12000 | 600 | 1 |").contains("| pass (1 lost, allowed) |");
    ScenarioResult notConverged = new ScenarioResult(lossy.scenario(), "off", 3, lossy.failover(), lossy.check(),
        List.of(), false, Optional.empty(), "", null, true);
    assertThat(notConverged.passed()).as("an allowed loss excuses nothing else").isFalse();
  }

  @Test
  void medianIgnoresRunsWithoutAMeasurement() {
    assertThat(Report.medianFailover(List.of(row(3L, 0), row(1L, 0), row(null, 0), row(2L, 0))))
        .contains(Duration.ofMillis(2));
    assertThat(Report.medianFailover(List.of(row(1L, 0), row(4L, 0)))).contains(Duration.ofMillis(2).plusNanos(500_000));
    assertThat(Report.medianFailover(List.of(row(null, 0)))).isEmpty();
  }
}
