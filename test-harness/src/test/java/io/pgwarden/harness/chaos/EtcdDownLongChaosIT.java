package io.pgwarden.harness.chaos;

import io.pgwarden.harness.scenario.Scenarios;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** etcd down past ttl: the primary fences itself before the lease can expire; one primary after etcd returns. */
@Tag("chaos")
class EtcdDownLongChaosIT {
  @Test
  void etcdStoppedLongerThanTtlFencesThePrimaryAndTheClusterRecoversWithoutLoss() {
    ChaosAssertions.runAndAssertSafe(Scenarios::etcdDownLongerThanTtl);
  }
}
