package io.pgwarden.harness.chaos;

import io.pgwarden.harness.scenario.Scenarios;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The seed's two nodes: a stale former primary is not promoted in synchronous mode; the cluster waits for B. */
@Tag("chaos")
class TwoNodeStaleReturnChaosIT {
  @Test
  void onTwoNodesAStaleFormerPrimaryIsNotPromotedUntilTheNewerOneReturns() {
    ChaosAssertions.runAndAssertSafe(Scenarios::twoNodeStaleReturn);
  }
}
