package io.pgwarden.common.model;

import java.util.List;
import java.util.Set;

/**
 * What the agent saw of its own PostgreSQL in one observation.
 *
 * @param running the postmaster answers queries
 * @param inRecovery {@code pg_is_in_recovery()}; meaningful only when running
 * @param controlState from pg_controldata; meaningful when not running
 * @param timeline the timeline {@code lsn} is on
 * @param lsn primary: current write position; replica: last WAL received and flushed (or replayed,
 *     when more); stopped: end of the last checkpoint record
 * @param upstream {@code host:port} of primary_conninfo, null when none
 * @param history the parent timelines of {@code timeline}, from its history file (primary only)
 * @param slots physical replication slots present (primary only)
 * @param postmasterAlive a postmaster process exists even if it does not answer
 * @param probeError why the state could not be read; null when it could
 * @param syncStandbys the members synchronous_standby_names names right now (primary only)
 */
public record LocalPgState(
    DataDirState dataDir,
    boolean running,
    boolean inRecovery,
    ControlState controlState,
    String systemId,
    Long timeline,
    Lsn lsn,
    Lsn replayedLsn,
    boolean streaming,
    String upstream,
    List<TimelineSwitch> history,
    Set<String> slots,
    boolean postmasterAlive,
    String probeError,
    Set<String> syncStandbys) {

  public LocalPgState {
    syncStandbys = syncStandbys == null ? Set.of() : Set.copyOf(syncStandbys);
    controlState = controlState == null ? ControlState.UNKNOWN : controlState;
    history = history == null ? List.of() : List.copyOf(history);
    slots = slots == null ? Set.of() : Set.copyOf(slots);
  }

  /** Without synchronous standby information (stopped servers, replicas). */
  public LocalPgState(DataDirState dataDir, boolean running, boolean inRecovery, ControlState controlState,
      String systemId, Long timeline, Lsn lsn, Lsn replayedLsn, boolean streaming, String upstream,
      List<TimelineSwitch> history, Set<String> slots, boolean postmasterAlive, String probeError) {
    this(dataDir, running, inRecovery, controlState, systemId, timeline, lsn, replayedLsn, streaming, upstream,
        history, slots, postmasterAlive, probeError, Set.of());
  }

  public static LocalPgState unknown(String why, boolean postmasterAlive) {
    return new LocalPgState(DataDirState.UNKNOWN, false, false, ControlState.UNKNOWN, null, null, null, null,
        false, null, null, null, postmasterAlive, why);
  }

  public boolean isUnknown() {
    return probeError != null || dataDir == DataDirState.UNKNOWN;
  }

  public boolean runningAsPrimary() {
    return running && !inRecovery;
  }

  public boolean runningAsReplica() {
    return running && inRecovery;
  }

  public WalPosition position() {
    return timeline == null || lsn == null || timeline < 1 ? null : new WalPosition(timeline, lsn);
  }
}
