package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.agent.etcd.JetcdClusterStore;
import io.pgwarden.agent.local.LocalCluster;
import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.common.config.EtcdConfig;
import io.pgwarden.common.config.Keys;
import io.pgwarden.common.decide.SlotNames;
import io.pgwarden.common.json.Json;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Role;
import io.pgwarden.common.model.Tags;
import io.pgwarden.harness.cluster.TestCluster;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A member key written without a lease (as {@code etcdctl put} by hand would) stays in etcd forever;
 * the primary must not create a replication slot for it — a slot nobody consumes retains WAL without
 * bound and uses up max_replication_slots — and every agent says once why it ignores the key.
 */
class ForeignMemberKeyIT {
  private static final String FOREIGN = "foreign-1";

  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(2);

  @Test
  void aMemberKeyWithoutALeaseGetsNoSlotOnThePrimary() throws Exception {
    TestCluster c = CLUSTER.get();
    String primary = c.awaitHealthy();
    String replica = c.otherThan(primary);
    String slotsSql = "SELECT slot_name FROM pg_replication_slots ORDER BY slot_name";
    await("the primary has the replica's slot").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
        .until(() -> c.tryQuery(primary, slotsSql).orElse(List.of()), s -> s.equals(List.of(SlotNames.of(replica))));

    LocalCluster.State s = c.local().state();
    Keys keys = c.keys();
    String key = keys.member(FOREIGN);
    String primaryConn = c.viewNow().member(primary).connUrl();
    try (ClusterStore store = JetcdClusterStore.connect(new EtcdConfig(s.etcdEndpoints(), null, null), null)) {
      // As convincing as a status gets: a running replica streaming from the primary.
      MemberStatus fake = new MemberStatus(FOREIGN, Role.REPLICA, "running", 1L, null, null, true, primaryConn,
          "http://127.0.0.1:1", "127.0.0.1:1", c.viewNow().initialize(), Tags.NONE, "foreign", null);
      store.put(key, Json.write(fake), 0, Duration.ofSeconds(30));
      try {
        String warning = "ignoring member key " + key + ": not bound to a lease";
        await("every agent read the key and said why it ignores it").atMost(Duration.ofMinutes(1))
            .pollInterval(Duration.ofMillis(500)).until(() -> c.nodes().stream().allMatch(n -> c.agentLog(n).contains(warning)));
        c.awaitMoreLoops(2);

        assertThat(c.viewNow().members()).containsKey(FOREIGN);
        assertThat(c.queryColumn(primary, slotsSql)).as("slots on the primary " + primary)
            .containsExactly(SlotNames.of(replica));
        for (String n : c.nodes()) {
          assertThat(c.agentLogCount(n, warning)).as(n + " reports the key once, not every loop").isEqualTo(1);
        }
      } finally {
        store.delete(key, Duration.ofSeconds(30));
      }
      await("the key is gone").atMost(Duration.ofSeconds(30)).until(() -> !c.viewNow().members().containsKey(FOREIGN));
    }
    assertThat(c.healthy()).isTrue();
  }
  /**
   * {@code etcdctl put .../members/x null} is valid JSON that reads as no status at all. It once killed
   * every agent's loop at the same moment (and the leader's watchdog then stopped the primary): now each
   * agent reports the key once and goes on; bound to no lease, it does not even block a failover.
   */
  @Test
  void aJsonNullWrittenIntoAMemberKeyIsReportedAndEveryAgentGoesOn() throws Exception {
    TestCluster c = CLUSTER.get();
    String primary = c.awaitHealthy();
    LocalCluster.State s = c.local().state();
    Keys keys = c.keys();
    String key = keys.member("by-hand");
    try (ClusterStore store = JetcdClusterStore.connect(new EtcdConfig(s.etcdEndpoints(), null, null), null)) {
      store.put(key, "null", 0, Duration.ofSeconds(30));
      try {
        // Bound to no lease, so no live agent's: reported, and no reason to block a failover.
        String report = "ignoring unparsable member key bound to no lease (so written by no live agent; it blocks no"
            + " promotion; delete it if it is stale): " + key + ": the value is null";
        await("every agent reported the key").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
            .until(() -> c.nodes().stream().allMatch(n -> c.agentLog(n).contains(report)));
        c.awaitMoreLoops(2);

        for (String n : c.nodes()) {
          assertThat(c.agentLogCount(n, report)).as(n + " reports the key once, not every loop").isEqualTo(1);
          assertThat(c.agentLog(n)).as(n).doesNotContain("tick failed").doesNotContain("NullPointerException");
        }
        assertThat(c.viewNow().leader().holder()).isEqualTo(primary);
      } finally {
        store.delete(key, Duration.ofSeconds(30));
      }
    }
    assertThat(c.awaitHealthy()).isEqualTo(primary);
  }
}
