package io.pgwarden.harness.chaos;

import io.pgwarden.harness.scenario.Scenarios;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The seed's two nodes: a stale former primary is not promoted in synchronous mode; the cluster waits for B.
 *
 * <p>It found that the recorded primary, back after running alone with {@code syncStandbys=[]}, could
 * never lead again in synchronous mode; fixed: the recorded primary is a candidate too.
 */
@Tag("chaos")
class TwoNodeStaleReturnChaosIT {
  @Test
  void onTwoNodesAStaleFormerPrimaryIsNotPromotedUntilTheNewerOneReturns() {
    ChaosAssertions.runAndAssertSafe(Scenarios::twoNodeStaleReturn);
  }
}
