package io.pgwarden.common.decide;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.common.model.Member;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.testing.Observations;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class PublishPolicyTest {
  private static final MemberStatus OURS = Observations.member("n1").status();
  private static final long ABSENT_SINCE = 100;
  private static final long MY_LEASE = 77;
  private static final Member SAME = new Member(OURS, 90, MY_LEASE);
  private static final Member SAME_NO_LEASE = new Member(OURS, 90, 0);
  private static final Member SAME_OTHER_LEASE = new Member(OURS, 90, MY_LEASE + 1);
  private static final Member SAME_AT_ABSENCE = new Member(OURS, ABSENT_SINCE, MY_LEASE);
  private static final Member SAME_AFTER_ABSENCE = new Member(OURS, ABSENT_SINCE + 1, MY_LEASE);
  private static final Member OLDER = new Member(
      Observations.member("n1").state("stopped").modRevision(90).build().status(), 90, MY_LEASE);

  /** One row: what the loop saw, and whether our status {@link #OURS} is written now. */
  record Row(String name, boolean reachable, boolean leaseValid, boolean hasLeader, Member published,
      boolean writtenByUs, boolean publish) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Row> rows() {
    return Stream.of(
        new Row("unchanged, written by us, leader present", true, true, true, SAME, true, false),
        new Row("changed", true, true, true, OLDER, true, true),
        new Row("unchanged, but rewritten without a lease", true, true, true, SAME_NO_LEASE, true, true),
        new Row("unchanged, but bound to another lease", true, true, true, SAME_OTHER_LEASE, true, true),
        new Row("key absent", true, true, true, null, true, true),
        new Row("not written by this process yet (restart: key bound to the old lease)", true, true, true, SAME,
            false, true),
        new Row("changed, but etcd unreachable", false, true, true, OLDER, true, false),
        new Row("changed, but lease not valid", true, false, true, OLDER, true, false),
        new Row("key absent, but etcd unreachable", false, true, false, null, false, false),
        new Row("no leader, unchanged but written before the leader vanished", true, true, false, SAME, true, true),
        new Row("no leader, unchanged, written at the revision that first showed no leader", true, true, false,
            SAME_AT_ABSENCE, true, true),
        new Row("no leader, unchanged, refreshed after the leader vanished", true, true, false, SAME_AFTER_ABSENCE,
            true, false),
        new Row("no leader, refreshed after, but changed since", true, true, false,
            new Member(OLDER.status(), ABSENT_SINCE + 1, MY_LEASE), true, true),
        new Row("no leader, key absent", true, true, false, null, true, true),
        new Row("no leader, stale key, but lease not valid", true, false, false, SAME, true, false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void shouldPublish(Row r) {
    assertThat(PublishPolicy.shouldPublish(r.reachable, r.leaseValid, r.hasLeader, r.published, OURS, MY_LEASE, ABSENT_SINCE,
        r.writtenByUs)).isEqualTo(r.publish);
  }
}
