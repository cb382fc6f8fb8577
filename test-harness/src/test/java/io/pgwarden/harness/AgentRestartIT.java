package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.common.model.ClusterView;
import io.pgwarden.harness.cluster.TestCluster;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Safety invariant 6: killing and restarting every agent converges to the same cluster. */
class AgentRestartIT {
  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(3);

  @Test
  void killingAndRestartingEveryAgentAtOnceLeavesTheSamePrimaryInPlace() throws Exception {
    TestCluster c = CLUSTER.get();
    String primary = c.awaitHealthy();
    long term = c.viewNow().topology().term();
    long oldLease = c.viewNow().leader().leaseId();

    for (String n : c.nodes()) {
      c.killAgent(n);
    }
    // The primary's watchdog saw its agent die and stopped PostgreSQL: no writes without an agent
    // that can demote it. The replicas' PostgreSQL runs on.
    await("the watchdog fences the primary").atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200))
        .until(() -> !c.isWritable(primary));
    for (String n : c.nodes()) {
      if (!n.equals(primary)) {
        assertThat(c.isRunning(n)).as(n + " still runs").isTrue();
      }
    }
    for (String n : c.nodes()) {
      c.startAgent(n);
    }
    // The old agents' keys outlive them until their leases expire, so "healthy" alone proves nothing
    // yet: wait until the restarted primary agent has taken its key over under its own lease.
    await("the leader key moves to the restarted agent's lease").atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> {
          ClusterView v = c.view();
          return v != null && v.hasLeader() && v.leader().leaseId() != oldLease;
        });
    c.awaitHealthy("healthy again", Duration.ofMinutes(2));
    assertThat(c.leader()).contains(primary);
    assertThat(c.viewNow().topology().term()).as("no failover happened").isEqualTo(term);
    assertThat(c.viewNow().history()).noneMatch(h -> h.kind().equals("failover"));
    assertThat(c.agentLog(primary)).contains("rebinding the leader key to my lease");
  }
}
