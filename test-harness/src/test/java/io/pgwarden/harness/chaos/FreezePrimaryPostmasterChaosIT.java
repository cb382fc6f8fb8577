package io.pgwarden.harness.chaos;

import io.pgwarden.harness.scenario.Scenarios;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** SIGSTOP of the primary's postmaster past ttl, then SIGCONT: the invariants hold whatever the agent does. */
@Tag("chaos")
class FreezePrimaryPostmasterChaosIT {
  @Test
  void freezingThePrimarysPostmasterPastTtlKeepsTheInvariants() {
    ChaosAssertions.runAndAssertSafe(Scenarios::freezePrimaryPostmaster);
  }
}
