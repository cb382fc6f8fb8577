package io.pgwarden.common.decide;

import io.pgwarden.common.decide.Action.StartMode;

/**
 * What a start does when a postmaster is already running. Pure: the caller probes the server and
 * acts on the verdict.
 */
public final class StartPolicy {
  private StartPolicy() {}

  /** What to do instead of starting a second postmaster. */
  public enum OnRunning {
    /** Starting up or shutting down: a second postmaster would only fail on the lock file. */
    LEAVE_IT,
    /** Already running in the role asked for (as primary). */
    NOTHING,
    /** Already a replica, as asked: only point it at the wanted upstream. */
    FOLLOW,
    /** Running in the other role: never switch roles by a start; the decider must stop it first. */
    REFUSE
  }

  /**
   * @param mode the role the start asks for
   * @param answering the running server answers queries
   * @param inRecovery it answers as a replica (pg_is_in_recovery())
   */
  public static OnRunning onRunning(StartMode mode, boolean answering, boolean inRecovery) {
    if (!answering) {
      return OnRunning.LEAVE_IT;
    }
    if (mode == StartMode.PRIMARY && !inRecovery) {
      return OnRunning.NOTHING;
    }
    if (mode == StartMode.REPLICA && inRecovery) {
      return OnRunning.FOLLOW;
    }
    return OnRunning.REFUSE;
  }

  /** Why a start was {@link OnRunning#REFUSE refused}, naming the running role and the asked one. */
  public static String refusal(StartMode mode, boolean inRecovery) {
    return "already running as " + (inRecovery ? "replica" : "primary") + ", asked for " + mode + "; stop it first";
  }
}
