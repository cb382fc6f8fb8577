package io.pgwarden.harness.chaos;

import io.pgwarden.harness.scenario.Scenarios;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Power off the primary while a replica runs pg_basebackup: that replica must not be promoted. */
@Tag("chaos")
class KillPrimaryDuringBaseBackupChaosIT {
  @Test
  void aReplicaTakingABaseBackupIsNeverPromotedWhenThePrimaryDies() {
    ChaosAssertions.runAndAssertSafe(Scenarios::killPrimaryDuringBaseBackup);
  }
}
