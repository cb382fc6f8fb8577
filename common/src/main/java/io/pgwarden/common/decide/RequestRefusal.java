package io.pgwarden.common.decide;

import io.pgwarden.common.model.Observation;
import io.pgwarden.common.model.OperatorRequest;

/**
 * Why a member refuses an operator's request as things stand. REST answers with it (503) before queueing the
 * request, and the loop with it when things changed between the answer and its tick, so both say the same.
 */
public final class RequestRefusal {
  private RequestRefusal() {}

  /** Null when the request may be taken. */
  public static String of(OperatorRequest r, Observation obs) {
    if (obs.inFlight() != null) {
      // Taken now, it would run once the base backup or rewind is done: a reinit would then copy the data
      // again, keeping one more moved-aside directory. Patroni refuses too.
      return obs.inFlight().kind().state() + " in progress on this member; ask again when it is done";
    }
    if (r == OperatorRequest.REINIT && obs.cluster().isLeader(obs.me())) {
      // Patroni refuses on its leader too: the only copy of the newest commits is not to be thrown away.
      return "I am the leader; switch over to another member first, then reinitialize this one";
    }
    return null;
  }
}
