package io.pgwarden.agent.loop;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Wakes the loop early. Events carry no data: a timer, an etcd watch event and a lease event all
 * only mean "observe again". A signal that arrives while the loop is busy is kept for its next wait.
 */
public final class WakeupSignal {
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private boolean pending;

  public void signal() {
    lock.lock();
    try {
      pending = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Waits up to {@code timeout} or until signalled; returns whether a signal ended the wait. */
  public boolean await(Duration timeout) throws InterruptedException {
    long nanos = timeout.toNanos();
    lock.lock();
    try {
      while (!pending && nanos > 0) {
        nanos = changed.awaitNanos(nanos);
      }
      boolean woke = pending;
      pending = false;
      return woke;
    } finally {
      lock.unlock();
    }
  }
}
