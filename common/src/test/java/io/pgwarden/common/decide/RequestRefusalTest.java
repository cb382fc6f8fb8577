package io.pgwarden.common.decide;

import static io.pgwarden.common.testing.Observations.node;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.common.model.InFlight;
import io.pgwarden.common.model.OperatorRequest;
import org.junit.jupiter.api.Test;

class RequestRefusalTest {
  @Test
  void everyRequestIsRefusedWhileABaseBackupOrRewindRuns() {
    for (OperatorRequest r : OperatorRequest.values()) {
      assertThat(RequestRefusal.of(r, node("n1").noData().inFlight(InFlight.Kind.REWIND, "n2").leaderKey("n2").build()))
          .as(r.name()).contains("in progress on this member");
    }
  }

  @Test
  void reinitIsRefusedOnTheLeaderOnly() {
    var leader = node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).build();
    assertThat(RequestRefusal.of(OperatorRequest.REINIT, leader)).contains("I am the leader");
    assertThat(RequestRefusal.of(OperatorRequest.RESTART, leader)).isNull();
    assertThat(RequestRefusal.of(OperatorRequest.RELOAD, leader)).isNull();
    var replica = DeciderTest.withLeaderN2(node("n1").replicaRunning(1, "0/3000000").streamingFrom("n2:5432"), 1).build();
    assertThat(RequestRefusal.of(OperatorRequest.REINIT, replica)).isNull();
  }
}
