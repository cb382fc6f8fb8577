package io.pgwarden.agent.loop;

import java.time.Duration;

/**
 * Wakes the loop early. Events carry no data: a timer, an etcd watch event and a lease event all
 * only mean "observe again". A signal that arrives while the loop is busy is kept for its next wait.
 *
 * <p>A monitor rather than a lock and condition: the loop waits here every tick, and an idle agent
 * runs that code interpreted, where the JVM's own wait costs less than AbstractQueuedSynchronizer's.
 */
public final class WakeupSignal {
  private boolean pending; // guarded by this

  public synchronized void signal() {
    pending = true;
    notifyAll();
  }

  /** Waits up to {@code timeout} or until signalled; returns whether a signal ended the wait. */
  public synchronized boolean await(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long left = timeout.toNanos();
    while (!pending && left > 0) {
      // Whole milliseconds, rounded up: a wait cut short would only come round again at once.
      wait((left + 999_999) / 1_000_000);
      left = deadline - System.nanoTime();
    }
    boolean woke = pending;
    pending = false;
    return woke;
  }
}
