package io.pgwarden.common.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.common.json.Json;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TagsTest {
  /** Side by side in one object, as Patroni publishes them, so tools that read member keys find them. */
  @Test
  void anOperatorsOwnTagsSitBesidePgwardensInTheMemberKey() throws Exception {
    Tags t = new Tags(false, true, 2, false, Map.of("datacenter", "dc1", "rack", "3"));
    String json = Json.write(t);

    assertThat(Json.LENIENT.readTree(json).fieldNames()).toIterable()
        .containsExactlyInAnyOrder("nofailover", "noloadbalance", "failover_priority", "nosync", "datacenter", "rack");
    assertThat(Json.LENIENT.readValue(json, Tags.class)).isEqualTo(t);
    assertThat(Json.LENIENT.readValue("{\"nofailover\":true}", Tags.class).custom()).isEmpty();
  }

  @Test
  void aTagsValueIsItsTextWhateverKindOfTagItIs() {
    Tags t = new Tags(true, false, 0, false, Map.of("zone", "b"));
    assertThat(t.value("nofailover")).isEqualTo("true");
    assertThat(t.value("failover_priority")).isEqualTo("0");
    assertThat(t.value("zone")).isEqualTo("b");
    assertThat(t.value("rack")).isNull();
  }

  @Test
  void tagsThatLookLikePgwardensOwnAreRefused() {
    assertThat(Tags.lookalike("nofailvoer")).isEqualTo("nofailover");
    assertThat(Tags.lookalike("No_LoadBalance")).isEqualTo("noloadbalance");
    assertThat(Tags.lookalike("failover-priority")).isEqualTo("failover_priority");
    assertThat(Tags.lookalike("datacenter")).isNull();
    assertThat(Tags.lookalike("rack")).isNull();
    assertThatThrownBy(() -> new Tags(false, false, 1, false, Map.of("nosynch", "true")))
        .hasMessageContaining("tags.nosynch is not a pgwarden tag: did you mean nosync?");
    assertThatThrownBy(() -> new Tags(false, false, 1, false, Map.of("clonefrom", "true")))
        .hasMessageContaining("tags.clonefrom is a Patroni tag pgwarden does not implement");
    assertThatThrownBy(() -> new Tags(false, false, 1, false, Map.of("replicatefrom", "node2")))
        .hasMessageContaining("tags.replicatefrom is a Patroni tag pgwarden does not implement");
    // As in Patroni's sample configuration: asks for nothing.
    assertThat(new Tags(false, false, 1, false, Map.of("clonefrom", "false")).value("clonefrom")).isEqualTo("false");
  }
}
