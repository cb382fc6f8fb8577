package io.pgwarden.agent.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.model.LeaderRecord;
import io.pgwarden.common.model.Member;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Role;
import io.pgwarden.common.model.Switchover;
import io.pgwarden.common.model.Tags;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class SwitchoversTest {
  private static MemberStatus m(String name, Role role, String state, Tags tags) {
    return new MemberStatus(name, role, state, 1L, null, null, role == Role.REPLICA, null, null, null, null, tags,
        "dev", null);
  }

  private static ClusterView view(String leader, MemberStatus... ms) {
    Map<String, Member> members = new TreeMap<>();
    for (MemberStatus s : ms) {
      members.put(s.name(), new Member(s, 1, 7));
    }
    return new ClusterView(true, null, 1, "1", leader == null ? null : new LeaderRecord(leader, 1, 1), members, null,
        null, DynamicConfig.DEFAULTS, null);
  }

  private static final ClusterView HEALTHY = view("a", m("a", Role.PRIMARY, "running", Tags.NONE),
      m("b", Role.REPLICA, "running", Tags.NONE), m("c", Role.REPLICA, "running", new Tags(true, false, 1, false)),
      m("d", Role.REPLICA, "stopped", Tags.NONE));

  @Test
  void aSwitchoverNamesTheLeaderAsFrom() {
    assertThat(Switchovers.plan(HEALTHY, null, "b", null, false, false))
        .isEqualTo(new Switchover("a", "b", null, false, false));
    assertThat(Switchovers.plan(HEALTHY, "a", null, "now", false, false))
        .isEqualTo(new Switchover("a", null, null, false, false));
    assertThat(Switchovers.plan(HEALTHY, null, "b", "2030-01-01T10:00:00+02:00", false, false).scheduledAt())
        .isEqualTo("2030-01-01T08:00:00Z");
  }

  @Test
  void impossibleSwitchoversAreRefusedWithAReason() {
    assertThatThrownBy(() -> Switchovers.plan(HEALTHY, "b", null, null, false, false)).hasMessageContaining("b is not the leader");
    assertThatThrownBy(() -> Switchovers.plan(HEALTHY, null, "x", null, false, false)).hasMessageContaining("not a member");
    assertThatThrownBy(() -> Switchovers.plan(HEALTHY, null, "a", null, false, false)).hasMessageContaining("already the leader");
    assertThatThrownBy(() -> Switchovers.plan(HEALTHY, null, "c", null, false, false)).hasMessageContaining("nofailover");
    assertThatThrownBy(() -> Switchovers.plan(HEALTHY, null, "d", null, false, false)).hasMessageContaining("not a running replica");
    assertThatThrownBy(() -> Switchovers.plan(HEALTHY, null, "b", "soon", false, false)).hasMessageContaining("ISO-8601");
    assertThatThrownBy(() -> Switchovers.plan(view(null, m("b", Role.REPLICA, "running", Tags.NONE)), null, "b", null,
        false, false)).hasMessageContaining("failover");
  }

  @Test
  void aTimeInThePastIsRefusedNamingItAndNow() {
    Instant now = Instant.parse("2026-03-01T12:00:30.250Z");
    assertThatThrownBy(() -> Switchovers.scheduledAt("2026-03-01T13:00:00+01:00", now))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cannot schedule a switchover in the past: 2026-03-01T12:00:00Z is before now "
            + "(2026-03-01T12:00:30Z); give a later time, or \"now\"");
    assertThat(Switchovers.scheduledAt("2026-03-01T12:00:30.250Z", now)).isEqualTo("2026-03-01T12:00:30.250Z");
    assertThat(Switchovers.scheduledAt("2026-03-01T12:05:00Z", now)).isEqualTo("2026-03-01T12:05:00Z");
    assertThatThrownBy(() -> Switchovers.plan(HEALTHY, null, "b", "2020-01-01T00:00:00Z", false, false))
        .hasMessageStartingWith("cannot schedule a switchover in the past: 2020-01-01T00:00:00Z is before now (");
  }

  @Test
  void aFailoverWorksWithoutALeaderAndMayTargetAStoppedMember() {
    ClusterView leaderless = view(null, m("b", Role.REPLICA, "stopped", Tags.NONE));
    assertThat(Switchovers.plan(leaderless, null, "b", null, true, true))
        .isEqualTo(new Switchover(null, "b", null, true, true));
    assertThat(Switchovers.plan(HEALTHY, null, "d", null, true, false))
        .isEqualTo(new Switchover("a", "d", null, true, false));
    assertThatThrownBy(() -> Switchovers.plan(HEALTHY, null, null, null, true, false)).hasMessageContaining("candidate");
  }

  @Test
  void aMemberKeyWithoutALeaseIsNoCandidate() {
    Map<String, Member> members = new TreeMap<>(HEALTHY.members());
    members.put("x", new Member(m("x", Role.REPLICA, "running", Tags.NONE), 1, 0));
    members.remove("b");
    ClusterView v = new ClusterView(true, null, 1, "1", HEALTHY.leader(), members, null, null,
        DynamicConfig.DEFAULTS, null);
    assertThatThrownBy(() -> Switchovers.plan(v, null, "x", null, false, false))
        .hasMessageContaining("member key of x is not bound to a lease");
    assertThatThrownBy(() -> Switchovers.plan(v, null, null, null, false, false))
        .hasMessageContaining("no running replica");
  }
}
