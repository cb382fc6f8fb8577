package io.pgwarden.common.decide;

import java.time.Duration;

/**
 * Thresholds of the decider that are not cluster config.
 *
 * @param shortWait how soon to look again while something is about to change
 * @param freshnessGrace how long the best candidate waits for the others to republish their WAL
 *     positions after the leader vanished, before trusting what it has
 * @param candidateGrace how long each better-ranked candidate gets to take over before the next may
 */
public record DecisionPolicy(Duration shortWait, Duration freshnessGrace, Duration candidateGrace) {
  public static final DecisionPolicy DEFAULT =
      new DecisionPolicy(Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofSeconds(10));

  public DecisionPolicy {
    if (shortWait.isNegative() || shortWait.isZero()) {
      throw new IllegalArgumentException("shortWait must be > 0");
    }
    if (freshnessGrace.isNegative() || candidateGrace.isNegative()) {
      throw new IllegalArgumentException("graces must be >= 0");
    }
  }
}
