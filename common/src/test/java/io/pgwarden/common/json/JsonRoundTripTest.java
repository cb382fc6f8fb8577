package io.pgwarden.common.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.model.HistoryEntry;
import io.pgwarden.common.model.Lsn;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Role;
import io.pgwarden.common.model.SynchronousMode;
import io.pgwarden.common.model.Tags;
import io.pgwarden.common.model.Topology;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What goes over the wire to etcd and the REST API: snake_case, LSNs in PostgreSQL's text form. */
class JsonRoundTripTest {

  private static <T> T roundTrip(T value, Class<T> type) throws Exception {
    return Json.LENIENT.readValue(Json.write(value), type);
  }

  private static JsonNode tree(Object value) throws Exception {
    return Json.LENIENT.readTree(Json.write(value));
  }

  @ParameterizedTest
  @ValueSource(strings = {"0/0", "0/3000060", "16/B374D848", "FFFFFFF/FFFFFFFF"})
  void lsnTextFormRoundTrips(String text) throws Exception {
    Lsn lsn = Lsn.parse(text);
    assertThat(lsn.toString()).isEqualTo(text);
    assertThat(Json.write(lsn)).isEqualTo("\"" + text + "\"");
    assertThat(roundTrip(lsn, Lsn.class)).isEqualTo(lsn);
  }

  @Test
  void lsnValues() {
    assertThat(Lsn.parse("16/B374D848").value()).isEqualTo(0x16B374D848L);
    assertThat(Lsn.parse("0/3000060").value()).isEqualTo(0x3000060L);
    assertThat(Lsn.parse("16/b374d848")).isEqualTo(Lsn.parse("16/B374D848"));
    assertThat(Lsn.parse("1/0").isAfter(Lsn.parse("0/FFFFFFFF"))).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "3000060", "/1", "1/", "x/1", "1/100000000"})
  void badLsnTextIsRejected(String text) {
    assertThatThrownBy(() -> Lsn.parse(text)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void memberStatusRoundTripsInSnakeCase() throws Exception {
    MemberStatus s = new MemberStatus("n1", Role.REPLICA, "running", 3L, Lsn.parse("0/3000060"),
        Lsn.parse("0/3000000"), true, "n2:5432", "http://n1:8008", "n1:5432", "7300000000000000001",
        new Tags(false, true, 2, false), "0.1.0", 4L);
    assertThat(roundTrip(s, MemberStatus.class)).isEqualTo(s);
    JsonNode t = tree(s);
    assertThat(t.get("api_url").asText()).isEqualTo("http://n1:8008");
    assertThat(t.get("conn_url").asText()).isEqualTo("n1:5432");
    assertThat(t.get("replayed_lsn").asText()).isEqualTo("0/3000000");
    assertThat(t.get("lsn").asText()).isEqualTo("0/3000060");
    assertThat(t.get("system_id").asText()).isEqualTo("7300000000000000001");
    assertThat(t.get("role").asText()).isEqualTo("replica");
    assertThat(t.get("tags").get("failover_priority").asInt()).isEqualTo(2);
    assertThat(t.has("apiUrl")).isFalse();
    assertThat(t.has("position")).as("derived, not on the wire").isFalse();
    assertThat(t.has("running")).isFalse();
  }

  @Test
  void memberStatusFromANewerAgentWithExtraFieldsIsRead() throws Exception {
    MemberStatus s = Json.LENIENT.readValue(
        "{\"name\":\"n1\",\"role\":\"primary\",\"state\":\"running\",\"timeline\":2,\"lsn\":\"16/B374D848\","
            + "\"some_future_field\":1}", MemberStatus.class);
    assertThat(s.role()).isEqualTo(Role.PRIMARY);
    assertThat(s.position().lsn()).isEqualTo(Lsn.parse("16/B374D848"));
    assertThat(s.tags()).isEqualTo(Tags.NONE);
  }

  @Test
  void topologyRoundTripsWithSyncStandbys() throws Exception {
    Topology t = new Topology(5, "n1", 3, List.of("n2", "n3"));
    assertThat(roundTrip(t, Topology.class)).isEqualTo(t);
    JsonNode n = tree(t);
    assertThat(n.get("sync_standbys")).hasSize(2);
    assertThat(n.has("syncStandbys")).isFalse();
  }

  @Test
  void historyEntryRoundTripsWithSwitchLsn() throws Exception {
    HistoryEntry h = new HistoryEntry(5, "failover", "n2", "n1", 3, Lsn.parse("0/5000028"),
        "2024-01-01T00:00:00Z", "failover to n1");
    assertThat(roundTrip(h, HistoryEntry.class)).isEqualTo(h);
    assertThat(tree(h).get("switch_lsn").asText()).isEqualTo("0/5000028");
    HistoryEntry bootstrap = new HistoryEntry(1, "bootstrap", null, "n1", 1, null, null, null);
    assertThat(tree(bootstrap).has("from")).as("nulls are left out").isFalse();
    assertThat(roundTrip(bootstrap, HistoryEntry.class)).isEqualTo(bootstrap);
  }

  @Test
  void dynamicConfigRoundTrips() throws Exception {
    DynamicConfig c = new DynamicConfig(30, 10, 10, 1048576L, SynchronousMode.STRICT, 2, true,
        Map.of("max_connections", "200"));
    assertThat(roundTrip(c, DynamicConfig.class)).isEqualTo(c);
    JsonNode n = tree(c);
    assertThat(n.get("loop_wait").asInt()).isEqualTo(10);
    assertThat(n.get("retry_timeout").asInt()).isEqualTo(10);
    assertThat(n.get("maximum_lag_on_failover").asLong()).isEqualTo(1048576L);
    assertThat(n.get("synchronous_mode").asText()).isEqualTo("strict");
    assertThat(n.get("synchronous_node_count").asInt()).isEqualTo(2);
    assertThat(n.has("loop_wait_duration")).isFalse();
    assertThat(n.has("paused")).isFalse();
  }

  @Test
  void tagsRoundTrip() throws Exception {
    Tags t = new Tags(true, false, 0, true);
    assertThat(roundTrip(t, Tags.class)).isEqualTo(t);
    JsonNode n = tree(t);
    assertThat(n.get("nofailover").asBoolean()).isTrue();
    assertThat(n.get("failover_priority").asInt()).isZero();
    assertThat(n.get("nosync").asBoolean()).isTrue();
    assertThat(n.has("can_failover")).as("derived, not on the wire").isFalse();
  }
}
