package io.pgwarden.harness.scenario;

import io.pgwarden.harness.invariant.Checker.CheckResult;
import io.pgwarden.harness.invariant.WritabilityProber.Overlap;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One row of the chaos table, with the evidence behind it.
 *
 * @param mode synchronous_mode as configured, and what the primary actually ran with
 * @param failover from the first fault to the first write accepted by a writable run that began after it
 * @param check empty when no primary could be found to check against
 * @param timeline writable intervals and fault marks, relative to the prober's start
 */
public record ScenarioResult(String scenario, String mode, int nodes, Optional<Duration> failover,
    Optional<CheckResult> check, List<Overlap> overlaps, boolean converged, Optional<Duration> convergedAfter,
    String timeline, String error) {

  public boolean passed() {
    return error == null && converged && overlaps.isEmpty() && check.map(CheckResult::ok).orElse(false);
  }

  public int lost() {
    return check.map(c -> c.lost().size()).orElse(-1);
  }

  public int duplicates() {
    return check.map(c -> c.duplicates().size()).orElse(-1);
  }

  public String summary() {
    return scenario + " [" + mode + "]: " + (passed() ? "PASS" : "FAIL") + ", failover "
        + failover.map(d -> d.toMillis() + " ms").orElse("-") + ", " + check.map(Object::toString).orElse("no check")
        + ", overlaps " + overlaps + ", converged " + converged
        + convergedAfter.map(d -> " after " + d.toMillis() + " ms").orElse("")
        + (error == null ? "" : ", error: " + error) + "\n" + timeline;
  }
}
