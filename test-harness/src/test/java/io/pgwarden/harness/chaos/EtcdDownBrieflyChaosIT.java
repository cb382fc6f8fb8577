package io.pgwarden.harness.chaos;

import io.pgwarden.harness.scenario.Scenarios;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A short etcd outage inside the lease: nobody fails over, nothing is lost. */
@Tag("chaos")
class EtcdDownBrieflyChaosIT {
  @Test
  void etcdStoppedForAQuarterOfTtlChangesNothingVisibleToClients() {
    ChaosAssertions.runAndAssertSafe(Scenarios::etcdDownBriefly);
  }
}
