package io.pgwarden.harness.scenario;

import io.pgwarden.common.model.SynchronousMode;
import io.pgwarden.harness.workload.Workload;

/**
 * A named fault sequence run on a fresh cluster under the workload and the prober.
 *
 * @param name reads like a Patroni feature line: what is done to whom
 * @param faultAfter fraction of the workload acknowledged before the first fault, so that writes
 *     land before, during and after it
 * @param lossAccepted the operator explicitly accepts losing acknowledged writes in this scenario (a forced
 *     {@code --allow-data-loss} failover): lost ids are counted and shown, not a failure
 * @param script injects the faults and heals them; returns when everything that was broken has been
 *     asked to come back
 */
public record Scenario(String name, int nodes, SynchronousMode mode, Workload.Options load, double faultAfter,
    boolean lossAccepted, FaultScript script) {

  /** The fault sequence; waits inside it go through {@link ScenarioContext} and are bounded. */
  @FunctionalInterface
  public interface FaultScript {
    void run(ScenarioContext ctx) throws Exception;
  }

  public Scenario(String name, int nodes, SynchronousMode mode, Workload.Options load, double faultAfter,
      FaultScript script) {
    this(name, nodes, mode, load, faultAfter, false, script);
  }

  public Scenario {
    if (nodes < 2) {
      throw new IllegalArgumentException("a failover scenario needs >= 2 nodes, got " + nodes);
    }
    if (faultAfter < 0 || faultAfter >= 1) {
      throw new IllegalArgumentException("faultAfter must be in [0, 1), got " + faultAfter);
    }
  }

  public Scenario with(SynchronousMode m, Workload.Options l) {
    return new Scenario(name, nodes, m, l, faultAfter, lossAccepted, script);
  }

  /**
   * Whether losing acknowledged ids is allowed (then counted and reported, never hidden): in
   * asynchronous mode (synchronous_mode off) a commit is acknowledged before any replica has it, and
   * when the operator accepted the loss.
   */
  public boolean lossAllowed() {
    return lossAccepted || mode == SynchronousMode.OFF;
  }
}
