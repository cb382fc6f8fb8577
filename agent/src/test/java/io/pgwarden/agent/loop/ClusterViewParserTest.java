package io.pgwarden.agent.loop;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.agent.port.RawKv;
import io.pgwarden.agent.port.RawScope;
import io.pgwarden.common.config.Keys;
import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.model.Member;
import io.pgwarden.common.model.SynchronousMode;
import io.pgwarden.common.model.Topology;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The parser reuses the parse of an unchanged value, and never the parse of an older one. */
class ClusterViewParserTest {
  private final Keys keys = new Keys("/pgwarden", "main");
  private final ClusterViewParser parser = new ClusterViewParser(keys);

  private ClusterViewParser.Parsed parse(RawKv... kvs) {
    return parser.parse(new RawScope(100, List.of(kvs)), DynamicConfig.DEFAULTS);
  }

  private RawKv topology(String json, long rev) {
    return new RawKv(keys.topology(), json, rev, 1, 1, 0);
  }

  @Test
  void anUnchangedValueIsParsedOnceAndAChangedOneAgain() {
    String t1 = "{\"term\":1,\"primary\":\"node1\",\"timeline\":1,\"syncStandbys\":[]}";
    String t2 = "{\"term\":2,\"primary\":\"node2\",\"timeline\":2,\"syncStandbys\":[]}";

    Topology first = parse(topology(t1, 5)).view().topology();
    Topology again = parse(topology(t1, 5)).view().topology();
    Topology changed = parse(topology(t2, 6)).view().topology();

    assertThat(again).isSameAs(first);
    assertThat(changed.term()).isEqualTo(2);
    assertThat(changed.primary()).isEqualTo("node2");
    // Same revision but other text (cannot happen in etcd; the text decides anyway).
    assertThat(parse(topology(t1, 6)).view().topology().term()).isEqualTo(1);
  }

  @Test
  void anUnchangedScopeGivesTheSameViewAndAnyChangeANewOne() {
    String t1 = "{\"term\":1,\"primary\":\"node1\",\"timeline\":1,\"syncStandbys\":[]}";
    RawScope scope = new RawScope(100, List.of(topology(t1, 5)));
    DynamicConfig other = new DynamicConfig(20, 4, 8, null, null, null, null, null);

    ClusterView first = parser.parse(scope, DynamicConfig.DEFAULTS).view();
    ClusterView again = parser.parse(new RawScope(100, List.of(topology(t1, 5))), DynamicConfig.DEFAULTS).view();
    ClusterView newRevision = parser.parse(new RawScope(101, List.of(topology(t1, 5))), DynamicConfig.DEFAULTS)
        .view();
    // Without a /config key the view carries the last valid config: another one must show.
    ClusterView otherConfig = parser.parse(new RawScope(101, List.of(topology(t1, 5))), other).view();

    assertThat(again).isSameAs(first);
    assertThat(newRevision).isNotSameAs(first);
    assertThat(newRevision.revision()).isEqualTo(101);
    assertThat(otherConfig.config()).isEqualTo(other);
  }

  @Test
  void aKeyThatWasGoneIsParsedAgainWhenItReturns() {
    String t1 = "{\"term\":1,\"primary\":\"node1\",\"timeline\":1,\"syncStandbys\":[]}";

    Topology first = parse(topology(t1, 5)).view().topology();
    parse();
    Topology back = parse(topology(t1, 5)).view().topology();

    // The parse of a deleted key is not kept for the agent's lifetime.
    assertThat(back).isNotSameAs(first).isEqualTo(first);
  }

  @Test
  void aMemberKeysLeaseIsCarriedIntoTheView() {
    String n2 = "{\"name\":\"n2\",\"role\":\"replica\",\"state\":\"running\"}";
    String x = "{\"name\":\"x\",\"role\":\"replica\",\"state\":\"running\"}";
    ClusterView v = parse(new RawKv(keys.member("n2"), n2, 8, 8, 1, 0x51L),
        new RawKv(keys.member("x"), x, 9, 9, 1, 0)).view();

    assertThat(v.members().get("n2").lease()).isEqualTo(0x51L);
    assertThat(v.members().get("n2").leaseBound()).isTrue();
    assertThat(v.members().get("x").leaseBound()).isFalse();
    // Still listed, so an operator sees it; only live members count for the decision.
    assertThat(v.members()).containsOnlyKeys("n2", "x");
    assertThat(v.liveMembers()).extracting(Member::name).containsExactly("n2");
    assertThat(v.unboundMembers()).containsExactly("x");
  }

  @Test
  void aConfigWithAFractionOrATwiceGivenKeyIsRejectedAndTheLastValidOneKept() {
    DynamicConfig last = new DynamicConfig(20, 4, 8, null, null, null, true, null);
    for (String bad : List.of("{\"ttl\":10.9}", "{\"pause\":false,\"pause\":true}")) {
      ClusterViewParser.Parsed p =
          parser.parse(new RawScope(100, List.of(new RawKv(keys.config(), bad, 7, 7, 1, 0))), last);

      assertThat(p.view().config()).as(bad).isEqualTo(last);
      assertThat(p.configError()).as(bad).startsWith(keys.config() + ": ");
    }
  }

  @Test
  void anUnparsableSwitchoverIsReportedAsSuchNotAsConfigAndBlocksNothing() {
    ClusterViewParser.Parsed p = parse(new RawKv(keys.switchover(), "{\"to\":", 7, 7, 1, 0));

    assertThat(p.switchoverError()).startsWith(keys.switchover() + ": ");
    assertThat(p.configError()).isNull();
    assertThat(p.view().switchover()).isNull();
    assertThat(p.view().errors()).isEmpty();
  }

  @Test
  void anEmptyConfigValueIsRejectedAndTheLastValidOneKept() {
    DynamicConfig last = new DynamicConfig(20, 4, 8, null, SynchronousMode.STRICT, null, true, null);
    ClusterViewParser.Parsed p =
        parser.parse(new RawScope(100, List.of(new RawKv(keys.config(), "", 7, 7, 2, 0))), last);

    assertThat(p.view().config()).isEqualTo(last);
    assertThat(p.configError()).isEqualTo(keys.config() + ": the value is empty (write {} for all defaults)");
  }

  @Test
  void aMemberStatusWithATwiceGivenKeyIsAnError() {
    String twice = "{\"name\":\"n2\",\"role\":\"replica\",\"state\":\"running\",\"role\":\"primary\"}";
    ClusterView v = parse(new RawKv(keys.member("n2"), twice, 8, 8, 1, 0x51L)).view();

    assertThat(v.members()).isEmpty();
    assertThat(v.errors()).singleElement().asString().startsWith(keys.member("n2") + ": role: duplicate key");
  }

  @Test
  void anUnparsableValueIsReportedEveryTimeItIsRead() {
    RawKv bad = topology("{not json", 7);

    assertThat(parse(bad).view().errors()).singleElement().asString().startsWith(keys.topology());
    assertThat(parse(bad).view().errors()).singleElement().asString().startsWith(keys.topology());
    assertThat(parse(bad).view().topology()).isNull();
  }
  /**
   * JSON null is valid JSON that Jackson reads as no object at all: written by hand into any key, it must
   * be an error of that key, as other unreadable values are, never a crash of the loop (every agent at
   * once) nor a key taken for absent (a missing topology would lift the synchronous-standby rule).
   */
  @Test
  void aJsonNullOrANullEntryIsAnErrorOfItsKey() {
    String n2 = "{\"name\":\"n2\",\"role\":\"replica\",\"state\":\"running\"}";
    String entry = "{\"term\":1,\"kind\":\"bootstrap\",\"to\":\"n1\",\"timeline\":1}";
    List<RawKv> bad = List.of(
        new RawKv(keys.member("n2"), "null", 8, 8, 1, 0x51L),
        topology("null", 9),
        new RawKv(keys.history(), "null", 10, 10, 1, 0),
        new RawKv(keys.history(), "[" + entry + ",null]", 11, 11, 1, 0),
        topology("{\"term\":1,\"primary\":\"n1\",\"timeline\":1,\"sync_standbys\":[null]}", 12));
    for (RawKv kv : bad) {
      ClusterView v = parse(kv, new RawKv(keys.member("n3"), n2.replace("n2", "n3"), 13, 13, 1, 0x52L)).view();

      assertThat(v.errors()).as(kv.key() + " = " + kv.value()).singleElement().asString().startsWith(kv.key() + ": ");
      assertThat(v.topology()).as(kv.value()).isNull();
      assertThat(v.history()).as(kv.value()).isEmpty();
      assertThat(v.members()).as(kv.value()).containsOnlyKeys("n3");
    }
    ClusterViewParser.Parsed s = parse(new RawKv(keys.switchover(), "null", 14, 14, 1, 0));
    assertThat(s.switchoverError()).startsWith(keys.switchover() + ": ");
    assertThat(s.view().errors()).isEmpty();
  }
  @Test
  void anInitializeValueThatIsNoIdentifierIsReportedButStillClaimsTheCluster() {
    ClusterView v = parse(new RawKv(keys.initialize(), "garbage", 3, 3, 1, 0)).view();
    assertThat(v.initialize()).isEqualTo("garbage");
    assertThat(v.errors()).singleElement().asString().startsWith(keys.initialize() + ": not a system identifier");
    assertThat(parse(new RawKv(keys.initialize(), "7399999999999999999", 4, 4, 1, 0)).view().errors()).isEmpty();
    assertThat(parse(new RawKv(keys.initialize(), "", 5, 5, 1, 0)).view().errors()).isEmpty();
  }
  /** A stray key (etcdctl put, no lease) must not hold back every failover of the cluster. */
  @Test
  void anUnparsableMemberKeyBoundToNoLeaseIsIgnoredNotAnError() {
    ClusterViewParser.Parsed p = parse(new RawKv(keys.member("ghost"), "{\"name\":\"ghost\",\"lsn\":\"x\"}", 8, 8, 1, 0));
    assertThat(p.view().errors()).isEmpty();
    assertThat(p.ignored()).singleElement().asString().startsWith(keys.member("ghost") + ": ");
    assertThat(p.view().members()).isEmpty();

    ClusterViewParser.Parsed bound = parse(new RawKv(keys.member("ghost"), "{\"name\":\"ghost\",\"lsn\":\"x\"}", 9, 9, 1, 0x51L));
    assertThat(bound.view().errors()).singleElement().asString().startsWith(keys.member("ghost") + ": ");
    assertThat(bound.ignored()).isEmpty();
  }
  /** {"at": ...} for scheduled_at, dropped, made a switchover planned for later happen at once. */
  @Test
  void aSwitchoverWithAFieldThisVersionDoesNotKnowIsIgnoredNotCarriedOutAtOnce() {
    ClusterViewParser.Parsed p = parse(new RawKv(keys.switchover(),
        "{\"from\":\"n2\",\"to\":\"n1\",\"at\":\"2099-01-01T00:00:00Z\"}", 14, 14, 1, 0));
    assertThat(p.view().switchover()).isNull();
    assertThat(p.switchoverError()).startsWith(keys.switchover() + ": ").contains("at");

    ClusterViewParser.Parsed ok = parse(new RawKv(keys.switchover(),
        "{\"from\":\"n2\",\"to\":\"n1\",\"scheduled_at\":\"2099-01-01T00:00:00Z\"}", 15, 15, 1, 0));
    assertThat(ok.switchoverError()).isNull();
    assertThat(ok.view().switchover().scheduledAt()).isEqualTo("2099-01-01T00:00:00Z");
  }
}
