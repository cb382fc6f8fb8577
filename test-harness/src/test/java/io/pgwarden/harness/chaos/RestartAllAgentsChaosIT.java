package io.pgwarden.harness.chaos;

import io.pgwarden.harness.scenario.Scenarios;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Invariant 6: killing and restarting any agent at any point converges. */
@Tag("chaos")
class RestartAllAgentsChaosIT {
  @Test
  void killingAndRestartingEveryAgentAtOnceConvergesToTheSameCluster() {
    ChaosAssertions.runAndAssertSafe(Scenarios::restartAllAgents);
  }
}
