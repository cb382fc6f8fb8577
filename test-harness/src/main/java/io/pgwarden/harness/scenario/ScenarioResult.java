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
 * @param lossAllowed lost acknowledged ids do not fail the row (asynchronous mode, or a loss the operator
 *     accepted); they are still counted in {@link #lost()} and shown in the table
 */
public record ScenarioResult(String scenario, String mode, int nodes, Optional<Duration> failover,
    Optional<CheckResult> check, List<Overlap> overlaps, boolean converged, Optional<Duration> convergedAfter,
    String timeline, String error, boolean lossAllowed) {

  public ScenarioResult(String scenario, String mode, int nodes, Optional<Duration> failover,
      Optional<CheckResult> check, List<Overlap> overlaps, boolean converged, Optional<Duration> convergedAfter,
      String timeline, String error) {
    this(scenario, mode, nodes, failover, check, overlaps, converged, convergedAfter, timeline, error, false);
  }

  /**
   * No error, converged, no overlap, no duplicate, nothing unexpected, replicas consistent, and no
   * acknowledged id lost unless {@link #lossAllowed}.
   */
  public boolean passed() {
    return error == null && converged && overlaps.isEmpty() && check.map(c -> c.duplicates().isEmpty()
        && c.unexpected().isEmpty() && c.replicasConsistent() && (lossAllowed || c.lost().isEmpty())).orElse(false);
  }

  /** "pass", "FAIL", or "pass (N lost, allowed)" so an allowed loss is never shown as a plain pass. */
  public String verdict() {
    if (!passed()) {
      return "FAIL";
    }
    return lost() > 0 ? "pass (" + lost() + " lost, allowed)" : "pass";
  }

  public int lost() {
    return check.map(c -> c.lost().size()).orElse(-1);
  }

  public int duplicates() {
    return check.map(c -> c.duplicates().size()).orElse(-1);
  }

  public String summary() {
    return scenario + " [" + mode + "]: " + verdict() + ", failover "
        + failover.map(d -> d.toMillis() + " ms").orElse("-") + ", " + check.map(Object::toString).orElse("no check")
        + ", overlaps " + overlaps + ", converged " + converged
        + convergedAfter.map(d -> " after " + d.toMillis() + " ms").orElse("")
        + (error == null ? "" : ", error: " + error) + "\n" + timeline;
  }
}
