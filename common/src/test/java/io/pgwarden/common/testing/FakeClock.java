package io.pgwarden.common.testing;

import io.pgwarden.common.time.MonotonicClock;
import java.time.Duration;

/** A monotonic clock that moves only when a test says so. Not thread-safe. */
public final class FakeClock implements MonotonicClock {
  private long now;

  /** Starts at an arbitrary non-zero instant, like {@link System#nanoTime()}. */
  public FakeClock() {
    this(1_000_000_000L);
  }

  /** Starts at {@code startNanos}; use a value near {@link Long#MAX_VALUE} to exercise overflow. */
  public FakeClock(long startNanos) {
    this.now = startNanos;
  }

  @Override
  public long nanoTime() {
    return now;
  }

  /** Moves time forward; wraps around like {@link System#nanoTime()} does. */
  public FakeClock advance(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("a monotonic clock never goes back: " + d);
    }
    now += d.toNanos();
    return this;
  }
}
