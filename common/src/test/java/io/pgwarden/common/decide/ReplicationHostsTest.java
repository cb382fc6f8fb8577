package io.pgwarden.common.decide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.common.testing.Observations;
import org.junit.jupiter.api.Test;

class ReplicationHostsTest {
  @Test
  void membersHostsPlusLoopbackAndNothingUnsafe() {
    var c = Observations.node("n1").member(Observations.member("n2").connUrl("10.0.0.2:5432"))
        .member(Observations.member("n3").connUrl("[fd00::3]:5432"))
        .member(Observations.member("n4").connUrl("db-4.example:5432"))
        .member(Observations.member("n5").connUrl("x\nhost all all 0.0.0.0/0 trust:5432"))
        .member(Observations.member("n6").noConnUrl()).build().cluster();
    assertThat(ReplicationHosts.wanted(c))
        .containsExactlyInAnyOrder("127.0.0.1", "::1", "10.0.0.2", "fd00::3", "db-4.example");
  }

  @Test
  void aMemberKeyWithoutALeaseAllowsNoHost() {
    var c = Observations.node("n1").member(Observations.member("n2").connUrl("10.0.0.2:5432"))
        .member(Observations.member("x").connUrl("10.6.6.6:5432").noLease()).build().cluster();
    assertThat(ReplicationHosts.wanted(c)).containsExactlyInAnyOrder("127.0.0.1", "::1", "10.0.0.2");
  }

  @Test
  void aRememberedAnswerIsOnlyForTheSameView() {
    var one = Observations.node("n1").member(Observations.member("n2").connUrl("10.0.0.2:5432")).build().cluster();
    var other = Observations.node("n1").member(Observations.member("n2").connUrl("10.0.0.9:5432")).build().cluster();
    var first = ReplicationHosts.wanted(one);
    assertThat(ReplicationHosts.wanted(one)).isSameAs(first);
    assertThat(ReplicationHosts.wanted(other)).containsExactlyInAnyOrder("127.0.0.1", "::1", "10.0.0.9");
    assertThat(ReplicationHosts.wanted(one)).containsExactlyInAnyOrder("127.0.0.1", "::1", "10.0.0.2");
    assertThatThrownBy(() -> first.add("10.6.6.6")).isInstanceOf(UnsupportedOperationException.class);
  }
}
