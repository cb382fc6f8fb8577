package io.pgwarden.common.decide;

import io.pgwarden.common.model.LeaderRecord;
import java.time.Duration;

/**
 * When a node moves its keys to a lease of a new ttl, and when the old lease stops bounding it. Pure: the
 * observer grants, renews and tracks; this only decides.
 */
public final class LeaseMovePolicy {
  private LeaseMovePolicy() {}

  /**
   * An etcd lease keeps the ttl it was granted with, so a changed ttl reaches a running node only through a new
   * lease. Moved only from a lease still valid here: one that is not is replaced by a plain grant anyway, while
   * a move would bound the new lease by the old one's deadline (LeaseTracker#moving), which has passed.
   *
   * @param leaseId the lease held now (0: none)
   * @param askedTtl the ttl that lease was asked for (null before the first grant)
   * @param configTtl the ttl of the cluster config now
   * @param valid the lease is valid as judged locally
   */
  public static boolean shouldMove(long leaseId, Duration askedTtl, Duration configTtl, boolean valid) {
    return leaseId != 0 && askedTtl != null && !askedTtl.equals(configTtl) && valid;
  }

  /**
   * Whether the old lease no longer bounds this node's deadline: no leader key of mine is left on it. Judged
   * only on a view read from etcd, since a leader key still on the old lease expires with it, whatever the new
   * lease's deadline says.
   *
   * @param reachable the view was read from etcd
   * @param leader the view's leader key (null when there is none)
   * @param me this node's name
   * @param leaseId the (new) lease this node renews
   */
  public static boolean keysMoved(boolean reachable, LeaderRecord leader, String me, long leaseId) {
    return reachable && (leader == null || !leader.holder().equals(me) || leader.leaseId() == leaseId);
  }
}
