package io.pgwarden.harness.chaos;

import io.pgwarden.harness.scenario.Scenarios;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Power off A; B takes over; A returns and, as soon as it starts rewinding from B, B is powered off.
 * The third node takes over; A never leads from a half-rewound data directory.
 */
@Tag("chaos")
class KillNewPrimaryDuringRewindChaosIT {
  @Test
  void theOldPrimaryNeverLeadsFromAHalfRewoundDataDirectory() {
    ChaosAssertions.runAndAssertSafe(Scenarios::killNewPrimaryDuringRewind);
  }
}
