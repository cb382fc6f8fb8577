package io.pgwarden.harness.chaos;

import io.pgwarden.harness.scenario.Scenarios;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A planned switchover through the CLI under the workload. */
@Tag("chaos")
class SwitchoverUnderLoadChaosIT {
  @Test
  void aPlannedSwitchoverUnderLoadLosesNothingAndNeverHasTwoWritableNodes() {
    ChaosAssertions.runAndAssertSafe(Scenarios::switchover);
  }
}
