package io.pgwarden.common.decide;

/**
 * What the decider asks the agent to do. Every action is safe to repeat: its executor checks the
 * state it would change, and the next observation shows whether it worked.
 */
public sealed interface Action
    permits Action.Bootstrap,
        Action.AcquireLeaderKey,
        Action.ReleaseLeaderKey,
        Action.Promote,
        Action.Demote,
        Action.StartPostgres,
        Action.FollowLeader,
        Action.Rewind,
        Action.Rebuild,
        Action.WriteTopology,
        Action.EnsureSlots,
        Action.MakeSlots,
        Action.Reload,
        Action.SetSyncStandbys,
        Action.ClearSwitchover,
        Action.Halt {

  /** Claim {@code /initialize}, initdb with checksums, start as primary, create the replication role. */
  record Bootstrap(String reason) implements Action {}

  /**
   * Create {@code /leader} bound to our lease if it is absent, or rebind it to our lease if it already
   * names us (a restarted agent). Fails when another member holds it.
   */
  record AcquireLeaderKey(String reason) implements Action {}

  /** Delete {@code /leader} if it still names us. */
  record ReleaseLeaderKey(String reason) implements Action {}

  /** pg_ctl promote, confirmed by pg_is_in_recovery() = false; refused unless we hold a valid lease. */
  record Promote(String reason) implements Action {}

  /** Stop accepting writes: stop PostgreSQL in {@code mode}, optionally releasing the leader key. */
  record Demote(DemoteMode mode, boolean releaseKey, String reason) implements Action {}

  /** Start PostgreSQL; as a replica of {@code upstream} (null: a replica of nobody yet) or as primary. */
  record StartPostgres(StartMode mode, String upstream, String reason) implements Action {}

  /** Point a running replica's primary_conninfo at {@code leader} and reload. */
  record FollowLeader(String leader, String reason) implements Action {}

  /** pg_rewind the stopped data directory from {@code leader}, off the loop thread. */
  record Rewind(String leader, String reason) implements Action {}

  /**
   * pg_basebackup from {@code leader} into a new directory, off the loop thread; the old one is
   * moved aside, never deleted.
   */
  record Rebuild(String leader, String reason) implements Action {}

  /** Write topology (and append history), in a txn guarded by our leader key. */
  record WriteTopology(
      io.pgwarden.common.model.Topology topology, io.pgwarden.common.model.HistoryEntry history)
      implements Action {}

  /** Make the primary's physical slots exactly {@code slots} (inactive extras dropped). */
  record EnsureSlots(java.util.Set<String> slots) implements Action {}

  /**
   * Make the missing ones of {@code slots}, dropping none: the standbys' slots of a promotion about to
   * happen, so that their first connection to the new primary finds them. Best effort: a failure is
   * logged and the actions after it go on (the primary's loop makes whatever is missing).
   */
  record MakeSlots(java.util.Set<String> slots, String reason) implements Action {
    public MakeSlots {
      slots = java.util.Set.copyOf(slots);
    }
  }

  /** Re-render the config files and reload PostgreSQL (an operator asked). */
  record Reload(String reason) implements Action {}

  /**
   * Set synchronous_standby_names on the primary: wait for {@code count} of {@code names}; ["*"]:
   * any standby (strict mode without a healthy one); empty: nobody.
   */
  record SetSyncStandbys(java.util.List<String> names, int count, String reason) implements Action {
    public SetSyncStandbys {
      names = java.util.List.copyOf(names);
    }
  }

  /** Delete {@code /switchover}: done, or impossible. */
  record ClearSwitchover(String reason) implements Action {}

  /** Stop the agent: continuing would risk data (for example, a system identifier mismatch). */
  record Halt(String reason) implements Action {}

  /** How PostgreSQL starts. */
  enum StartMode {
    PRIMARY,
    REPLICA
  }
}
