package io.pgwarden.common.decide;

import io.pgwarden.common.model.LeaseState;
import java.time.Duration;

/** When a node may skip this tick's lease renewal. Pure: the caller observes, this only decides. */
public final class RenewalPolicy {
  private RenewalPolicy() {}

  /**
   * A follower in a steady state renews every other tick: its lease only keeps its member key, which
   * lives a full ttl after the last renewal, and it renews at once whenever it may act on the leader
   * key. Deferring is allowed only while the last view had a leader that is not me, PostgreSQL is not
   * running as primary, no switchover or operator request is pending, and the lease has more than half
   * of its local validity (ttl - retry_timeout) left; with loop_wait + 2 * retry_timeout <= ttl the
   * next tick then still finds it valid. The leader, a candidate and a node without a lease renew on
   * every tick, as before.
   *
   * @param reachable the view was read from etcd
   * @param hasLeader the view has a leader key
   * @param iAmLeader the leader key is mine
   * @param runningAsPrimary the local PostgreSQL runs as primary
   * @param switchoverPending the view has a switchover key
   * @param requestPending an operator request waits for this node
   * @param lease this node's lease as judged locally (id 0 when it has none)
   * @param ttl the lease ttl of the cluster config
   * @param retryTimeout the retry_timeout of the cluster config
   * @return true when this tick may skip the renewal
   */
  public static boolean mayDeferRenewal(boolean reachable, boolean hasLeader, boolean iAmLeader,
      boolean runningAsPrimary, boolean switchoverPending, boolean requestPending, LeaseState lease,
      Duration ttl, Duration retryTimeout) {
    if (!reachable || !hasLeader || iAmLeader || runningAsPrimary || switchoverPending || requestPending
        || lease.leaseId() == 0 || !lease.valid()) {
      return false;
    }
    // In nanoseconds: Duration.dividedBy goes through BigDecimal, on every follower tick.
    long halfWindow = (ttl.toNanos() - retryTimeout.toNanos()) / 2;
    return lease.remaining().toNanos() > halfWindow;
  }
}
