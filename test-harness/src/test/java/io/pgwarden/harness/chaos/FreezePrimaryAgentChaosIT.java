package io.pgwarden.harness.chaos;

import io.pgwarden.harness.scenario.Scenarios;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** SIGSTOP of the agent past its lease: its PostgreSQL must stop taking writes before another node starts. */
@Tag("chaos")
class FreezePrimaryAgentChaosIT {
  @Test
  void freezingThePrimarysAgentForTwoTtlsFencesItsPostgresBeforeAnotherNodeTakesWrites() {
    ChaosAssertions.runAndAssertSafe(Scenarios::freezePrimaryAgent);
  }
}
