package io.pgwarden.common.model;

import java.time.Duration;

/**
 * This agent's own etcd lease, as judged by the local monotonic clock.
 *
 * @param leaseId 0 when the agent has none
 * @param valid the local deadline (counted from when the last successful renewal was sent) has not
 *     passed
 * @param remaining time left before the local deadline; zero when not valid
 */
public record LeaseState(long leaseId, boolean valid, Duration remaining) {
  public static final LeaseState NONE = new LeaseState(0, false, Duration.ZERO);

  public LeaseState {
    remaining = remaining == null || remaining.isNegative() ? Duration.ZERO : remaining;
  }
}
