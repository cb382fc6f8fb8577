package io.pgwarden.common.model;

import java.time.Duration;
import java.util.List;

/**
 * A member on its way to being a synchronous standby of the lock holder ({@code
 * Decider#standbysOnTheirWay}), with how long the holder's observer has seen it on that way.
 *
 * @param member the member's name
 * @param states why it is on its way, such as {@code "not streaming from me"}; only for summaries
 * @param onItsWayFor since when the observer times this way, on the agent's monotonic clock; zero when
 *     it began in this tick
 */
public record StandbyOnItsWay(String member, List<String> states, Duration onItsWayFor) {
  public StandbyOnItsWay {
    if (member == null || states == null || states.isEmpty() || onItsWayFor == null) {
      throw new IllegalArgumentException("a standby on its way needs a member, its states and how long");
    }
    states = List.copyOf(states);
  }
}
