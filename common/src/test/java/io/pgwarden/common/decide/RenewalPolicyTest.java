package io.pgwarden.common.decide;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.common.model.LeaseState;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class RenewalPolicyTest {
  private static final Duration TTL = Duration.ofSeconds(30);
  private static final Duration RETRY = Duration.ofSeconds(10);
  /** Half of the local validity window, ttl - retry_timeout. */
  private static final Duration HALF = Duration.ofSeconds(10);

  /** One row: the inputs, starting from a steady follower, and whether it may skip the renewal. */
  record Row(String name, boolean reachable, boolean hasLeader, boolean iAmLeader, boolean runningAsPrimary,
      boolean switchoverPending, boolean requestPending, LeaseState lease, boolean mayDefer) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static final LeaseState FRESH = new LeaseState(7, true, Duration.ofSeconds(25));

  private static Row steady(String name, boolean mayDefer) {
    return new Row(name, true, true, false, false, false, false, FRESH, mayDefer);
  }

  static Stream<Row> rows() {
    Row s = steady("steady follower with a fresh lease", true);
    return Stream.of(
        s,
        new Row("etcd unreachable", false, s.hasLeader, s.iAmLeader, s.runningAsPrimary, s.switchoverPending,
            s.requestPending, s.lease, false),
        new Row("no leader: I may be a candidate", s.reachable, false, s.iAmLeader, s.runningAsPrimary,
            s.switchoverPending, s.requestPending, s.lease, false),
        new Row("I am the leader", s.reachable, s.hasLeader, true, s.runningAsPrimary, s.switchoverPending,
            s.requestPending, s.lease, false),
        new Row("PostgreSQL runs as primary", s.reachable, s.hasLeader, s.iAmLeader, true, s.switchoverPending,
            s.requestPending, s.lease, false),
        new Row("switchover pending", s.reachable, s.hasLeader, s.iAmLeader, s.runningAsPrimary, true,
            s.requestPending, s.lease, false),
        new Row("operator request pending", s.reachable, s.hasLeader, s.iAmLeader, s.runningAsPrimary,
            s.switchoverPending, true, s.lease, false),
        new Row("no lease id", s.reachable, s.hasLeader, s.iAmLeader, s.runningAsPrimary, s.switchoverPending,
            s.requestPending, new LeaseState(0, true, Duration.ofSeconds(25)), false),
        new Row("lease not valid", s.reachable, s.hasLeader, s.iAmLeader, s.runningAsPrimary, s.switchoverPending,
            s.requestPending, new LeaseState(7, false, Duration.ofSeconds(25)), false),
        new Row("remaining exactly half of ttl - retry_timeout", s.reachable, s.hasLeader, s.iAmLeader,
            s.runningAsPrimary, s.switchoverPending, s.requestPending, new LeaseState(7, true, HALF), false),
        new Row("remaining just over half", s.reachable, s.hasLeader, s.iAmLeader, s.runningAsPrimary,
            s.switchoverPending, s.requestPending, new LeaseState(7, true, HALF.plusNanos(1)), true),
        new Row("remaining just under half", s.reachable, s.hasLeader, s.iAmLeader, s.runningAsPrimary,
            s.switchoverPending, s.requestPending, new LeaseState(7, true, HALF.minusNanos(1)), false),
        new Row("remaining nothing", s.reachable, s.hasLeader, s.iAmLeader, s.runningAsPrimary,
            s.switchoverPending, s.requestPending, new LeaseState(7, true, Duration.ZERO), false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void mayDeferRenewal(Row r) {
    assertThat(RenewalPolicy.mayDeferRenewal(r.reachable, r.hasLeader, r.iAmLeader, r.runningAsPrimary,
        r.switchoverPending, r.requestPending, r.lease, TTL, RETRY)).isEqualTo(r.mayDefer);
  }
}
