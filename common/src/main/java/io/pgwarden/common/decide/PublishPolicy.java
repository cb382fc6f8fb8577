package io.pgwarden.common.decide;

import io.pgwarden.common.model.Member;
import io.pgwarden.common.model.MemberStatus;

/** When a node writes its member status. Pure: the caller observes and writes, this only decides. */
public final class PublishPolicy {
  private PublishPolicy() {}

  /**
   * Our status is bound to our lease, so it vanishes with us. It is written only while etcd is
   * reachable and the lease is valid (a write bound to a lapsed lease would fail or outlive nothing).
   * Otherwise it is written when the status in etcd differs from ours or is not bound to our lease (a
   * copy someone rewrote without a lease would not count as ours), or when this process has not
   * written exactly this status itself yet (after a restart the key is still bound to the old lease),
   * or while there is no leader and the key was last written before the leader vanished: candidates
   * then compare WAL positions and must be able to tell ours is fresh.
   *
   * @param reachable the view was read from etcd
   * @param leaseValid our lease is valid by the local clock
   * @param hasLeader the view has a leader key
   * @param published our member key as read in the view; null when absent
   * @param status the status we would write now
   * @param myLeaseId the lease our key must be bound to
   * @param leaderAbsentSince the etcd revision of the first read that showed no leader
   * @param writtenByUs this process last wrote exactly this status (equal as a record)
   * @return true when the status should be written now
   */
  public static boolean shouldPublish(boolean reachable, boolean leaseValid, boolean hasLeader, Member published,
      MemberStatus status, long myLeaseId, long leaderAbsentSince, boolean writtenByUs) {
    if (!reachable || !leaseValid) {
      return false;
    }
    boolean current = published != null && published.status().equals(status) && published.lease() == myLeaseId;
    boolean refresh = !hasLeader && (published == null || published.modRevision() <= leaderAbsentSince);
    return !current || refresh || !writtenByUs;
  }
}
