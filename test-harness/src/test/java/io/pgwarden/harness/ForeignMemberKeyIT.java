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
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A member key written without a lease (as {@code etcdctl put} by hand would) stays in etcd forever;
 * the primary must not create a replication slot for it — a slot nobody consumes retains WAL without
 * bound and uses up max_replication_slots — and every agent says once why it ignores the key.
 */
class ForeignMemberKeyIT {
  private static final String FOREIGN = "foreign-1";
  private static final Pattern TICKS = Pattern.compile("(?m)^pgwarden_loop_ticks_total(?:\\{[^}]*})? (\\d+)$");
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(2);

  @Test
  void aMemberKeyWithoutALeaseGetsNoSlotOnThePrimary() throws Exception {
    TestCluster c = CLUSTER.get();
    await("healthy").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).until(c::healthy);
    String primary = c.leader().orElseThrow();
    String replica = c.otherThan(primary);
    String slotsSql = "SELECT slot_name FROM pg_replication_slots ORDER BY slot_name";
    await("the primary has the replica's slot").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
        .until(() -> c.tryQuery(primary, slotsSql).orElse(List.of()), s -> s.equals(List.of(SlotNames.of(replica))));

    LocalCluster.State s = c.local().state();
    Keys keys = new Keys(s.namespace(), s.scope());
    String key = keys.member(FOREIGN);
    String primaryConn = c.view().member(primary).connUrl();
    try (ClusterStore store = JetcdClusterStore.connect(new EtcdConfig(s.etcdEndpoints(), null, null), null)) {
      // As convincing as a status gets: a running replica streaming from the primary.
      MemberStatus fake = new MemberStatus(FOREIGN, Role.REPLICA, "running", 1L, null, null, true, primaryConn,
          "http://127.0.0.1:1", "127.0.0.1:1", c.view().initialize(), Tags.NONE, "foreign", null);
      store.put(key, Json.write(fake), 0, Duration.ofSeconds(30));
      try {
        String warning = "ignoring member key " + key + ": not bound to a lease";
        await("the primary read the key and said why it ignores it").atMost(Duration.ofMinutes(1))
            .pollInterval(Duration.ofMillis(500)).until(() -> c.agentLog(primary).contains(warning));
        long seen = ticks(c, primary);
        await("two more loops of the primary").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
            .until(() -> ticks(c, primary) >= seen + 2);

        assertThat(c.view().members()).containsKey(FOREIGN);
        assertThat(c.queryColumn(primary, slotsSql)).as("slots on the primary " + primary)
            .containsExactly(SlotNames.of(replica));
        for (String n : c.nodes()) {
          assertThat(occurrences(c.agentLog(n), warning)).as(n + " reports the key once, not every loop").isEqualTo(1);
        }
      } finally {
        store.delete(key, Duration.ofSeconds(30));
      }
      await("the key is gone").atMost(Duration.ofSeconds(30)).until(() -> !c.view().members().containsKey(FOREIGN));
    }
    assertThat(c.healthy()).isTrue();
  }

  private static long ticks(TestCluster c, String node) throws Exception {
    URI uri = URI.create(c.local().node(node).apiUrl() + "/metrics");
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
    Matcher m = TICKS.matcher(r.body());
    assertThat(m.find()).as("pgwarden_loop_ticks_total in " + node + "'s /metrics").isTrue();
    return Long.parseLong(m.group(1));
  }

  private static int occurrences(String text, String what) {
    int n = 0;
    for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
      n++;
    }
    return n;
  }
}
