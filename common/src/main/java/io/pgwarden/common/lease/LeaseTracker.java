package io.pgwarden.common.lease;

import io.pgwarden.common.model.LeaseState;
import io.pgwarden.common.time.MonotonicClock;
import java.time.Duration;

/**
 * The local deadline of our etcd lease (safety invariant 2). It is counted from the moment the last
 * successful renewal was <em>sent</em>: etcd may have started the TTL any time after that, never
 * before, so our deadline always falls before etcd's expiry.
 *
 * <p>Not thread-safe: owned by the loop thread.
 */
public final class LeaseTracker {
  private final MonotonicClock clock;
  // The margin of the lease held now: the retry_timeout of the config it was granted under, which fits its
  // ttl (loop_wait + 2 * retry_timeout <= ttl). One taken from a later config could eat a smaller lease whole.
  private Duration safetyMargin;
  private long leaseId;
  private long validUntil;
  private boolean everRenewed;
  private long lastSentAt;
  private boolean lossSeen;
  private long lostAt;
  // While my keys move to a new lease (a changed ttl), the old lease's deadline bounds the new one's: the
  // leader key stays on the old lease, which nobody renews any more, until the move is seen done.
  private boolean bounded;
  private long boundUntil;

  /**
   * @param safetyMargin subtracted from the TTL: the time a demotion needs to complete before etcd
   *     could hand the key to someone else
   */
  public LeaseTracker(MonotonicClock clock, Duration safetyMargin) {
    if (safetyMargin.isNegative()) {
      throw new IllegalArgumentException("safetyMargin must be >= 0");
    }
    this.clock = clock;
    this.safetyMargin = safetyMargin;
  }

  /** Take the timestamp before sending the renewal (or grant) request. */
  public long beginRenew() {
    return clock.nanoTime();
  }

  /**
   * A grant sent at {@code sentAt} gave {@code leaseId} with {@code ttl}; its deadlines keep {@code
   * safetyMargin} (the retry_timeout the ttl was chosen with) from now on, renewals included.
   */
  public void granted(long leaseId, long sentAt, Duration ttl, Duration safetyMargin) {
    if (safetyMargin.isNegative() || safetyMargin.compareTo(ttl) >= 0) {
      throw new IllegalArgumentException("safetyMargin must be >= 0 and below the ttl " + ttl + ", got " + safetyMargin);
    }
    if (lossSeen && sentAt - lostAt < 0 || everRenewed && sentAt - lastSentAt < 0) {
      return; // as in renewed: an answer older than what is known changes nothing
    }
    this.safetyMargin = safetyMargin;
    renewed(leaseId, sentAt, ttl);
  }

  /** The request sent at {@code sentAt} succeeded and etcd granted {@code ttl} for {@code leaseId}. */
  public void renewed(long leaseId, long sentAt, Duration ttl) {
    // An answer to a request sent before the lease was lost must not revive it (nor its id).
    if (lossSeen && sentAt - lostAt < 0) {
      return;
    }
    // A late answer to an older request must not move the deadline or switch the lease id: keep
    // the latest send time that succeeded. Compared by subtraction, overflow-safe.
    if (everRenewed && sentAt - lastSentAt < 0) {
      return;
    }
    this.leaseId = leaseId;
    this.lastSentAt = sentAt;
    this.validUntil = sentAt + ttl.minus(safetyMargin).toNanos();
    everRenewed = true;
  }

  /**
   * A new lease, granted (at {@code sentAt}) to replace the one held, whose keys are still to move to it:
   * until {@link #keysMoved()}, validity ends no later than the old lease's does.
   */
  public void moving(long newLeaseId, long sentAt, Duration ttl, Duration safetyMargin) {
    if (!everRenewed) {
      granted(newLeaseId, sentAt, ttl, safetyMargin);
      return;
    }
    long old = validUntil;
    boundUntil = bounded && boundUntil - old < 0 ? boundUntil : old;
    bounded = true;
    granted(newLeaseId, sentAt, ttl, safetyMargin);
  }

  /** My keys are bound to the lease held now: only its own deadline counts again. */
  public void keysMoved() {
    bounded = false;
  }

  /** Whether keys still sit on a lease this tracker no longer renews. */
  public boolean movingKeys() {
    return bounded;
  }

  private long until() {
    return bounded && boundUntil - validUntil < 0 ? boundUntil : validUntil;
  }

  /** The lease is gone (expired, revoked, or its keep-alive stream broke). */
  public void lost() {
    leaseId = 0;
    bounded = false;
    everRenewed = false;
    lossSeen = true;
    lostAt = clock.nanoTime();
  }

  public boolean isValid() {
    return everRenewed && clock.nanoTime() - until() < 0;
  }

  public Duration remaining() {
    if (!everRenewed) {
      return Duration.ZERO;
    }
    long left = until() - clock.nanoTime();
    return left > 0 ? Duration.ofNanos(left) : Duration.ZERO;
  }

  public long leaseId() {
    return leaseId;
  }

  public LeaseState state() {
    boolean valid = isValid();
    return new LeaseState(leaseId, valid, valid ? remaining() : Duration.ZERO);
  }
}
