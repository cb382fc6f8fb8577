package io.pgwarden.common.time;

/** Elapsed time only, never wall time; leases are judged by it. Tests use a fake. */
@FunctionalInterface
public interface MonotonicClock {
  long nanoTime();

  MonotonicClock SYSTEM = System::nanoTime;
}
