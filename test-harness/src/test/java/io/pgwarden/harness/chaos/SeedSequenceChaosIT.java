package io.pgwarden.harness.chaos;

import io.pgwarden.harness.scenario.Scenarios;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The seed's sequence: power off A; later power off B while A returns; B comes back last. */
@Tag("chaos")
class SeedSequenceChaosIT {
  @Test
  void theSeedsLoadTestSequenceOnThreeNodesLosesNoAcknowledgedWrite() {
    ChaosAssertions.runAndAssertSafe(Scenarios::seedSequence);
  }
}
