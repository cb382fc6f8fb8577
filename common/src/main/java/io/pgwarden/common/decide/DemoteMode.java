package io.pgwarden.common.decide;

import java.time.Duration;

/**
 * How a node stops accepting writes. Never "smart": open sessions must not keep committing.
 *
 * @param escalateAfter how long a fast stop may take before it becomes immediate
 */
public enum DemoteMode {
  /** Fast stop (clean shutdown checkpoint), escalating to immediate. */
  FAST(Duration.ofSeconds(5)),
  /** Immediate stop: the lease is about to run out; crash recovery later is cheaper than two primaries. */
  IMMEDIATE(Duration.ZERO);

  private final Duration escalateAfter;

  DemoteMode(Duration escalateAfter) {
    this.escalateAfter = escalateAfter;
  }

  public Duration escalateAfter() {
    return escalateAfter;
  }
}
