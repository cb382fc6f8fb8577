package io.pgwarden.harness.chaos;

import io.pgwarden.harness.scenario.ScenarioResult;
import io.pgwarden.harness.scenario.Scenarios;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("chaos")
class PowerOffPrimaryChaosIT {
  @Test
  void poweringOffThePrimaryUnderLoadLosesNoAcknowledgedWriteAndNeverHasTwoWritableNodes() {
    ScenarioResult r = ChaosAssertions.runAndAssertSafe(Scenarios::powerOffPrimary);
    System.out.println("power-off failover time: " + r.failover().map(d -> d.toMillis() + " ms").orElse("not measured"));
  }
}
