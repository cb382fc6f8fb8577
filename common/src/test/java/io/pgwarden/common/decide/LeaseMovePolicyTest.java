package io.pgwarden.common.decide;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.common.model.LeaderRecord;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class LeaseMovePolicyTest {
  private static final Duration T30 = Duration.ofSeconds(30);
  private static final Duration T10 = Duration.ofSeconds(10);

  @Test
  void aValidLeaseAskedForAnotherTtlMoves() {
    assertThat(LeaseMovePolicy.shouldMove(7, T30, T10, true)).isTrue();
  }

  @Test
  void nothingMovesWithoutALeaseAValidOneOrAChangedTtl() {
    assertThat(LeaseMovePolicy.shouldMove(0, T30, T10, true)).as("no lease: a grant, not a move").isFalse();
    assertThat(LeaseMovePolicy.shouldMove(7, null, T10, true)).as("never granted by this agent").isFalse();
    assertThat(LeaseMovePolicy.shouldMove(7, T10, T10, true)).as("same ttl").isFalse();
    assertThat(LeaseMovePolicy.shouldMove(7, T30, T10, false)).as("invalid: replaced by a plain grant").isFalse();
  }

  @Test
  void theOldLeaseBoundsALeaderUntilItsKeyIsSeenOnTheNewOne() {
    long oldLease = 7;
    long newLease = 8;
    assertThat(LeaseMovePolicy.keysMoved(true, new LeaderRecord("n1", oldLease, 5), "n1", newLease)).isFalse();
    assertThat(LeaseMovePolicy.keysMoved(true, new LeaderRecord("n1", newLease, 6), "n1", newLease)).isTrue();
    assertThat(LeaseMovePolicy.keysMoved(false, new LeaderRecord("n1", newLease, 6), "n1", newLease))
        .as("a view etcd did not give").isFalse();
    assertThat(LeaseMovePolicy.keysMoved(false, null, "n1", newLease)).as("unreachable, no key seen").isFalse();
  }

  @Test
  void aFollowerOrALeaderlessClusterHasNoKeyOnTheOldLease() {
    assertThat(LeaseMovePolicy.keysMoved(true, new LeaderRecord("n2", 3, 5), "n1", 8)).isTrue();
    assertThat(LeaseMovePolicy.keysMoved(true, null, "n1", 8)).isTrue();
  }
}
