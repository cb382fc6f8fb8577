package io.pgwarden.harness.chaos;

import io.pgwarden.harness.scenario.Scenarios;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Needs the companion watchdog (issue 5, part 2): without it the orphaned postmaster keeps taking writes. */
@Tag("chaos")
class KillPrimaryAgentChaosIT {
  @Test
  void killingOnlyThePrimarysAgentFencesItsPostgresBeforeAnotherNodeTakesWrites() {
    ChaosAssertions.runAndAssertSafe(Scenarios::killPrimaryAgent);
  }
}
