package io.pgwarden.common.lease;

import static java.time.Duration.ofMillis;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.common.model.LeaseState;
import io.pgwarden.common.testing.FakeClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Safety invariant 2: the local deadline counts from when the last successful renewal was sent. */
class LeaseTrackerTest {
  private static final Duration TTL = ofSeconds(30);
  private static final Duration MARGIN = ofSeconds(5);
  private static final long LEASE = 7;

  private final FakeClock clock = new FakeClock();
  private final LeaseTracker tracker = new LeaseTracker(clock, MARGIN);

  @Test
  void neverRenewedIsInvalid() {
    assertThat(tracker.isValid()).isFalse();
    assertThat(tracker.remaining()).isZero();
    assertThat(tracker.state()).isEqualTo(new LeaseState(0, false, Duration.ZERO));
  }

  @Test
  void validForTtlMinusMarginAfterTheSend() {
    tracker.renewed(LEASE, tracker.beginRenew(), TTL);
    clock.advance(ofSeconds(24));
    assertThat(tracker.isValid()).isTrue();
    assertThat(tracker.remaining()).isEqualTo(ofSeconds(1));
    assertThat(tracker.state()).isEqualTo(new LeaseState(LEASE, true, ofSeconds(1)));
    clock.advance(ofSeconds(2));
    assertThat(tracker.isValid()).isFalse();
    assertThat(tracker.remaining()).isZero();
    assertThat(tracker.state()).isEqualTo(new LeaseState(LEASE, false, Duration.ZERO));
  }

  @Test
  void theDeadlineIsExactlyTtlMinusMargin() {
    tracker.renewed(LEASE, tracker.beginRenew(), TTL);
    clock.advance(ofSeconds(25).minusNanos(1));
    assertThat(tracker.isValid()).isTrue();
    clock.advance(Duration.ofNanos(1));
    assertThat(tracker.isValid()).isFalse();
  }

  @Test
  void theDeadlineCountsFromTheSendNotFromTheAnswer() {
    long sent = tracker.beginRenew();
    clock.advance(ofSeconds(3)); // the answer takes 3 s
    tracker.renewed(LEASE, sent, TTL);
    assertThat(tracker.remaining()).isEqualTo(ofSeconds(22));
    clock.advance(ofSeconds(22).minusMillis(1));
    assertThat(tracker.isValid()).isTrue();
    clock.advance(ofMillis(1));
    assertThat(tracker.isValid()).isFalse();
  }

  @Test
  void aLateAnswerToAnOlderRequestNeverExtendsBeyondTheNewestSend() {
    long first = tracker.beginRenew();
    clock.advance(ofSeconds(10));
    long second = tracker.beginRenew();
    tracker.renewed(LEASE, second, TTL); // newest answer first: valid until second + 25 s
    tracker.renewed(LEASE, first, TTL); // then the late answer to the older request
    assertThat(tracker.remaining()).isEqualTo(ofSeconds(25));
    clock.advance(ofSeconds(25));
    assertThat(tracker.isValid()).isFalse();
  }

  @Test
  void aLateAnswerWithALongerTtlDoesNotMoveTheDeadlinePastTheNewestSend() {
    long first = tracker.beginRenew();
    clock.advance(ofSeconds(10));
    long second = tracker.beginRenew();
    tracker.renewed(LEASE, second, TTL);
    tracker.renewed(LEASE, first, ofSeconds(60)); // an answer from before a ttl change
    clock.advance(ofSeconds(25));
    assertThat(tracker.isValid()).isFalse();
  }

  @Test
  void answersInOrderMoveTheDeadlineForward() {
    tracker.renewed(LEASE, tracker.beginRenew(), TTL);
    clock.advance(ofSeconds(20));
    tracker.renewed(LEASE, tracker.beginRenew(), TTL);
    clock.advance(ofSeconds(24));
    assertThat(tracker.isValid()).isTrue();
  }

  @Test
  void lostMakesItInvalidAtOnce() {
    tracker.renewed(LEASE, tracker.beginRenew(), TTL);
    tracker.lost();
    assertThat(tracker.isValid()).isFalse();
    assertThat(tracker.remaining()).isZero();
    assertThat(tracker.leaseId()).isZero();
    assertThat(tracker.state().valid()).isFalse();
  }

  @Test
  void aLateAnswerToARequestSentBeforeTheLossDoesNotReviveTheLease() {
    tracker.renewed(LEASE, tracker.beginRenew(), TTL);
    clock.advance(ofSeconds(5));
    long sentBeforeLoss = tracker.beginRenew();
    clock.advance(ofSeconds(1));
    tracker.lost(); // e.g. revoked, or etcd answered "lease not found" on the stream
    tracker.renewed(LEASE, sentBeforeLoss, TTL);
    assertThat(tracker.isValid()).isFalse();
    assertThat(tracker.leaseId()).isZero();
  }

  @Test
  void aNewGrantAfterALossIsValid() {
    tracker.renewed(LEASE, tracker.beginRenew(), TTL);
    tracker.lost();
    clock.advance(ofSeconds(1));
    tracker.renewed(8, tracker.beginRenew(), TTL);
    assertThat(tracker.isValid()).isTrue();
    assertThat(tracker.leaseId()).isEqualTo(8);
  }

  @Test
  void aLateAnswerForTheOldLeaseDoesNotSwitchBackToIt() {
    long oldRenewal = tracker.beginRenew();
    clock.advance(ofSeconds(1));
    tracker.renewed(8, tracker.beginRenew(), TTL); // a new lease was granted meanwhile
    tracker.renewed(LEASE, oldRenewal, TTL);
    assertThat(tracker.leaseId()).isEqualTo(8);
    assertThat(tracker.remaining()).isEqualTo(ofSeconds(25));
  }

  @ParameterizedTest(name = "clock starting {0} ns before Long.MAX_VALUE")
  @ValueSource(longs = {0, 1, 3_000_000_000L, 24_000_000_000L, 26_000_000_000L})
  void survivesNanoTimeOverflow(long beforeMax) {
    FakeClock nearMax = new FakeClock(Long.MAX_VALUE - beforeMax);
    LeaseTracker t = new LeaseTracker(nearMax, MARGIN);
    long sent = t.beginRenew();
    nearMax.advance(ofSeconds(3));
    t.renewed(LEASE, sent, TTL);
    assertThat(t.isValid()).isTrue();
    assertThat(t.remaining()).isEqualTo(ofSeconds(22));
    nearMax.advance(ofSeconds(21));
    assertThat(t.isValid()).isTrue();
    nearMax.advance(ofSeconds(2));
    assertThat(t.isValid()).isFalse();
    assertThat(t.remaining()).isZero();
  }

  @Test
  void aLateAnswerAcrossTheOverflowStillKeepsTheNewestSend() {
    FakeClock nearMax = new FakeClock(Long.MAX_VALUE - 1_000_000_000L);
    LeaseTracker t = new LeaseTracker(nearMax, MARGIN);
    long before = t.beginRenew();
    nearMax.advance(ofSeconds(2)); // wraps to a negative nanoTime
    long after = t.beginRenew();
    t.renewed(LEASE, after, TTL);
    t.renewed(LEASE, before, TTL);
    assertThat(t.remaining()).isEqualTo(ofSeconds(25));
  }

  @Test
  void aNegativeMarginIsRejected() {
    assertThatThrownBy(() -> new LeaseTracker(clock, ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("safetyMargin");
  }
  /**
   * A margin fixed at start-up (retry_timeout 5 here) would leave a lease granted after `set-config ttl=4
   * retry_timeout=1` never valid: each lease keeps the margin of the config it was granted under.
   */
  @Test
  void eachGrantKeepsTheMarginOfTheConfigItWasGrantedUnder() {
    tracker.granted(LEASE, tracker.beginRenew(), ofSeconds(10), ofSeconds(4));
    clock.advance(ofSeconds(5));
    assertThat(tracker.remaining()).isEqualTo(ofSeconds(1));
    tracker.renewed(LEASE, tracker.beginRenew(), ofSeconds(10));
    assertThat(tracker.remaining()).as("a renewal keeps the lease's margin").isEqualTo(ofSeconds(6));

    tracker.lost();
    clock.advance(ofSeconds(1));
    tracker.granted(LEASE + 1, tracker.beginRenew(), ofSeconds(4), ofSeconds(1));
    assertThat(tracker.isValid()).isTrue();
    assertThat(tracker.remaining()).isEqualTo(ofSeconds(3));
    assertThatThrownBy(() -> tracker.granted(LEASE + 2, tracker.beginRenew(), ofSeconds(4), ofSeconds(4)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("below the ttl");
  }
  /** Keys moving to a new lease (a changed ttl): the old lease's deadline bounds the new one's until they moved. */
  @Test
  void aNewLeaseIsBoundedByTheOldOneUntilTheKeysMoved() {
    tracker.granted(LEASE, tracker.beginRenew(), ofSeconds(10), ofSeconds(4)); // valid until 6 s
    clock.advance(ofSeconds(2));
    tracker.moving(LEASE + 1, tracker.beginRenew(), ofSeconds(30), ofSeconds(10)); // 2 + 30 - 10 = 22 s
    assertThat(tracker.leaseId()).isEqualTo(LEASE + 1);
    assertThat(tracker.movingKeys()).isTrue();
    assertThat(tracker.remaining()).isEqualTo(ofSeconds(4));
    tracker.renewed(LEASE + 1, tracker.beginRenew(), ofSeconds(30));
    assertThat(tracker.remaining()).as("renewing the new lease does not lift the bound").isEqualTo(ofSeconds(4));
    clock.advance(ofSeconds(4));
    assertThat(tracker.isValid()).as("the leader key may be gone with the old lease").isFalse();

    tracker.keysMoved();
    assertThat(tracker.isValid()).isTrue();
    assertThat(tracker.remaining()).isEqualTo(ofSeconds(16));
  }
}
