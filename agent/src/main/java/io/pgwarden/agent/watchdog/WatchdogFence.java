package io.pgwarden.agent.watchdog;

import io.pgwarden.agent.port.FatalAgentException;
import io.pgwarden.common.lease.LeaseTracker;
import io.pgwarden.common.model.LocalPgState;
import io.pgwarden.common.model.Observation;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the loop does with its watchdog each tick, right after the observation (which renewed the
 * lease) and before any action. Owned by the loop thread.
 */
public final class WatchdogFence implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WatchdogFence.class);

  /** What to tell the watchdog this tick. */
  public enum Feed {
    /** We hold the leader key on a valid lease: PostgreSQL must not outlive that lease. */
    ARM,
    /** PostgreSQL cannot be taking writes and we do not hold the key: never stop it. */
    DISARM,
    /** Unsure (etcd unreachable, PostgreSQL in an unknown state): the last deadline stays in force. */
    KEEP
  }

  private final Supplier<Watchdog> starter;
  private final String me;
  private final LeaseTracker lease;
  private Watchdog watchdog;

  public WatchdogFence(Supplier<Watchdog> starter, String me, LeaseTracker lease) {
    this.starter = starter;
    this.me = me;
    this.lease = lease;
    this.watchdog = starter.get();
  }

  /**
   * Pure. Paused: nobody fails over, so a dead agent's primary must not be stopped either. Armed
   * before a promote can happen, since only the key holder promotes. Disarmed only once PostgreSQL
   * is down or a replica: a primary that lost its key keeps its old deadline until the loop demotes it.
   */
  public static Feed decide(boolean paused, boolean etcdReachable, boolean holdsKey, boolean leaseValid,
      LocalPgState local) {
    if (paused) {
      return Feed.DISARM;
    }
    if (etcdReachable && holdsKey && leaseValid) {
      return Feed.ARM;
    }
    boolean cannotWrite = !local.isUnknown() && (!local.postmasterAlive() || local.runningAsReplica());
    if (cannotWrite && !(holdsKey && etcdReachable)) {
      return Feed.DISARM;
    }
    return Feed.KEEP;
  }

  /** Feeds the watchdog for this tick; throws FatalAgentException when it cannot be replaced. */
  public void onTick(Observation obs) {
    Feed feed = decide(obs.config().paused(), obs.cluster().reachable(), obs.cluster().isLeader(me), lease.isValid(),
        obs.local());
    if (!ensureAlive(feed)) {
      return;
    }
    switch (feed) {
      case ARM -> watchdog.arm(lease::remaining);
      case DISARM -> watchdog.disarm();
      case KEEP -> { }
    }
  }

  /**
   * Call right after this agent won the leader key, in the same tick: the observation that tick
   * began with did not show the key yet, and a promote may follow before the next one.
   */
  public void keyAcquired() {
    if (lease.isValid() && ensureAlive(Feed.ARM)) {
      watchdog.arm(lease::remaining);
    }
  }

  private boolean ensureAlive(Feed feed) {
    // A stopped (SIGSTOP) watchdog matters once it is to fence: reading /proc on every tick of every
    // replica was ~5 % of an idle replica's loop. It is checked before any arming, and while armed.
    boolean fences = feed == Feed.ARM || watchdog.armed();
    if (fences ? watchdog.alive() : watchdog.running()) {
      return true;
    }
    log.error("the watchdog (pid {}) died or froze; replacing it", watchdog.pid());
    watchdog.abandon();
    try {
      watchdog = starter.get();
    } catch (RuntimeException e) {
      // Without a watchdog a frozen or killed agent would leave a writable primary behind.
      if (feed != Feed.DISARM) {
        throw new FatalAgentException("cannot fence PostgreSQL: no watchdog (" + e.getMessage() + ")", e);
      }
      log.error("could not start a new watchdog: {}; will retry next tick", e.getMessage());
      return false;
    }
    return true;
  }

  /** Whether the watchdog would stop PostgreSQL if this agent died now: it may be taking writes. */
  public boolean armed() {
    return watchdog.armed();
  }

  /**
   * For a shutdown that could not stop PostgreSQL: lets the watchdog go without disarming it, as the
   * agent's death would. Armed, it stops PostgreSQL at once, before the lease this agent leaves
   * behind runs out and a replica is promoted; disarmed (a replica, a stopped server), it just exits.
   */
  public void hangUp() {
    watchdog.hangUp();
  }

  /** After PostgreSQL is stopped and the keys released: a clean shutdown never fires it. */
  @Override
  public void close() {
    watchdog.close();
  }
}
