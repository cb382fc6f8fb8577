package io.pgwarden.common.decide;

import java.time.Duration;
import java.util.List;

/**
 * The outcome of one decision: what to do, when to look again, and one line for the log; and whether it
 * carried out the operator's pending request, which stays pending (for a later tick) until one does.
 */
public record Decision(List<Action> actions, Duration requeueAfter, String summary, boolean requestTaken) {
  public Decision(List<Action> actions, Duration requeueAfter, String summary) {
    this(actions, requeueAfter, summary, false);
  }

  public Decision {
    actions = List.copyOf(actions);
    if (requeueAfter == null || requeueAfter.isNegative()) {
      throw new IllegalArgumentException("requeueAfter must be >= 0");
    }
    if (summary == null || summary.isBlank()) {
      throw new IllegalArgumentException("every decision needs a summary");
    }
  }

  public static Decision noAction(String summary, Duration after) {
    return new Decision(List.of(), after, summary);
  }

  public static Decision act(String summary, Duration after, Action... actions) {
    return new Decision(List.of(actions), after, summary);
  }

  /** This decision, as the one that carried out (or answered) the operator's pending request. */
  public Decision takingRequest() {
    return new Decision(actions, requeueAfter, summary, true);
  }

  public boolean isNoAction() {
    return actions.isEmpty();
  }
}
