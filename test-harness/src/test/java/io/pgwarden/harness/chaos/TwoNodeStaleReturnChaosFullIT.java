package io.pgwarden.harness.chaos;

import io.pgwarden.harness.scenario.Scenarios;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The seed's two nodes: a stale former primary is not promoted in synchronous mode; the cluster waits for B.
 *
 * <p>Behind -Pchaos-full because it exposes an agent bug (not weakened): when B, the recorded primary
 * that ran alone with {@code syncStandbys=[]}, is powered on again, it starts as a replica ("no leader,
 * joining the election read-only") and then never leads: {@code FailoverRanking.ineligibility} rejects
 * every node not in {@code syncStandbys}, the recorded primary included ("not eligible for promotion: no
 * synchronous standby was recorded, ..."). Both nodes up, no leader, for good. See docs/chaos.md.
 */
@Tag("chaos")
class TwoNodeStaleReturnChaosFullIT {
  @Test
  void onTwoNodesAStaleFormerPrimaryIsNotPromotedUntilTheNewerOneReturns() {
    ChaosAssertions.runAndAssertSafe(Scenarios::twoNodeStaleReturn);
  }
}
