package io.pgwarden.agent.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WakeupSignalTest {
  @Test
  void aSignalGivenWhileTheLoopIsBusyEndsItsNextWaitAtOnceAndOnlyThatOne() throws Exception {
    WakeupSignal s = new WakeupSignal();
    s.signal();
    s.signal(); // signals carry no data: two are one

    long start = System.nanoTime();
    assertThat(s.await(Duration.ofMinutes(5))).isTrue();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMinutes(1));
    assertThat(s.await(Duration.ofMillis(20))).as("the signal was used up").isFalse();
  }

  @Test
  void aWaitWithoutSignalLastsItsWholeTimeoutAndSaysSo() throws Exception {
    WakeupSignal s = new WakeupSignal();
    Duration timeout = Duration.ofMillis(150);

    long start = System.nanoTime();
    boolean woke = s.await(timeout);

    assertThat(woke).isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(timeout);
  }

  @Test
  void aSignalFromAnotherThreadEndsAWaitInProgress() throws Exception {
    WakeupSignal s = new WakeupSignal();
    CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> {
      try {
        return s.await(Duration.ofMinutes(5));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });

    // Whether the waiter is already waiting or not yet, the signal ends its wait: it is kept if early.
    s.signal();

    assertThat(waiting.get(1, TimeUnit.MINUTES)).isTrue();
  }

  @Test
  void aZeroTimeoutOnlyReportsAPendingSignal() throws Exception {
    WakeupSignal s = new WakeupSignal();
    assertThat(s.await(Duration.ZERO)).isFalse();
    s.signal();
    assertThat(s.await(Duration.ZERO)).isTrue();
  }
}
