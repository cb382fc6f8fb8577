package io.pgwarden.agent.loop;

import io.pgwarden.common.model.OperatorRequest;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Requests from the REST API to this agent's loop. The loop passes the pending one into the next
 * observation, so the decider — not the REST handler — decides whether and how to carry it out.
 */
public final class OperatorRequests {
  private final AtomicReference<OperatorRequest> pending = new AtomicReference<>();
  private final WakeupSignal wakeup;

  public OperatorRequests(WakeupSignal wakeup) {
    this.wakeup = wakeup;
  }

  /** Returns false when another request is still pending. */
  public boolean submit(OperatorRequest r) {
    if (!pending.compareAndSet(null, r)) {
      return false;
    }
    wakeup.signal();
    return true;
  }

  public OperatorRequest peek() {
    return pending.get();
  }

  /** Called by the loop once a decision has taken the request into account. */
  public void done(OperatorRequest r) {
    pending.compareAndSet(r, null);
  }
}
