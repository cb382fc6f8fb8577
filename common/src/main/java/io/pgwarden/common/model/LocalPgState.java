package io.pgwarden.common.model;

import java.util.List;
import java.util.Map;
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
 * @param slots physical replication slots present; on a replica only those no standby streams from
 * @param postmasterAlive a postmaster process exists even if it does not answer
 * @param probeError why the state could not be read; null when it could
 * @param syncStandbys the members synchronous_standby_names names right now (primary only)
 * @param appliedParameters the dynamic PostgreSQL parameters (from {@code /config}) that the config
 *     files last rendered and PostgreSQL was started or reloaded with; null when unknown (for example
 *     right after the agent restarted)
 * @param pendingRestart settings PostgreSQL reports as {@code pending_restart}: changed in the files,
 *     applied only by a restart (running servers only)
 * @param appliedReplicationHosts the hosts pg_hba.conf last allowed replication from (and PostgreSQL
 *     was started or reloaded with); null when unknown
 * @param parameterErrors PostgreSQL parameters (dynamic or from the node's config) that PostgreSQL
 *     rejected on the last reload, by name: the value and why. They are left out of the config files
 *     (so a restart does not fail on them) until the value changes. Empty when none
 * @param syncConfirmed the standbys pg_stat_replication shows synchronous and streaming (primary only):
 *     caught up, and every commit from now on waits for them
 * @param streamingStandbys the standbys pg_stat_replication shows streaming from this server (primary
 *     only), by application_name, which is the member name: connected now, not just by their own word
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
    Set<String> syncStandbys,
    Map<String, String> appliedParameters,
    Set<String> pendingRestart,
    Set<String> appliedReplicationHosts,
    Map<String, String> parameterErrors,
    Set<String> syncConfirmed,
    Set<String> streamingStandbys) {

  /**
   * The standby a just-promoted primary's synchronous_standby_names waits for until its topology is
   * recorded: no member can have the name (member names take no colon), so no commit is acknowledged
   * before the record names this node primary. '*' would let any standby that reconnects acknowledge
   * them, while the record still names the old primary, which a failover may then promote without them.
   */
  public static final String PROMOTION_HOLD = "pgwarden:hold";

  /** Whether synchronous_standby_names is the promotion's hold. */
  public boolean holdsCommitsForTopology() {
    return syncStandbys.contains(PROMOTION_HOLD);
  }

  public LocalPgState {
    streamingStandbys = streamingStandbys == null ? Set.of() : Set.copyOf(streamingStandbys);
    syncConfirmed = syncConfirmed == null ? Set.of() : Set.copyOf(syncConfirmed);
    parameterErrors = parameterErrors == null ? Map.of() : SortedMaps.of(parameterErrors);
    syncStandbys = syncStandbys == null ? Set.of() : Set.copyOf(syncStandbys);
    // Copied once (SortedMaps): the probe hands the same map on every tick, and the decision compares it with
    // the config's, the same object while nothing changed.
    appliedParameters = appliedParameters == null ? null : SortedMaps.of(appliedParameters);
    pendingRestart = pendingRestart == null ? Set.of() : Set.copyOf(pendingRestart);
    appliedReplicationHosts = appliedReplicationHosts == null ? null : Set.copyOf(appliedReplicationHosts);
    controlState = controlState == null ? ControlState.UNKNOWN : controlState;
    history = history == null ? List.of() : List.copyOf(history);
    slots = slots == null ? Set.of() : Set.copyOf(slots);
  }

  /** Without the standbys pg_stat_replication shows streaming. */
  public LocalPgState(DataDirState dataDir, boolean running, boolean inRecovery, ControlState controlState,
      String systemId, Long timeline, Lsn lsn, Lsn replayedLsn, boolean streaming, String upstream,
      List<TimelineSwitch> history, Set<String> slots, boolean postmasterAlive, String probeError,
      Set<String> syncStandbys, Map<String, String> appliedParameters, Set<String> pendingRestart,
      Set<String> appliedReplicationHosts, Map<String, String> parameterErrors, Set<String> syncConfirmed) {
    this(dataDir, running, inRecovery, controlState, systemId, timeline, lsn, replayedLsn, streaming, upstream,
        history, slots, postmasterAlive, probeError, syncStandbys, appliedParameters, pendingRestart,
        appliedReplicationHosts, parameterErrors, syncConfirmed, Set.of());
  }

  /** Without synchronous standbys confirmed by pg_stat_replication. */
  public LocalPgState(DataDirState dataDir, boolean running, boolean inRecovery, ControlState controlState,
      String systemId, Long timeline, Lsn lsn, Lsn replayedLsn, boolean streaming, String upstream,
      List<TimelineSwitch> history, Set<String> slots, boolean postmasterAlive, String probeError,
      Set<String> syncStandbys, Map<String, String> appliedParameters, Set<String> pendingRestart,
      Set<String> appliedReplicationHosts, Map<String, String> parameterErrors) {
    this(dataDir, running, inRecovery, controlState, systemId, timeline, lsn, replayedLsn, streaming, upstream,
        history, slots, postmasterAlive, probeError, syncStandbys, appliedParameters, pendingRestart,
        appliedReplicationHosts, parameterErrors, Set.of());
  }

  /** Without parameter errors. */
  public LocalPgState(DataDirState dataDir, boolean running, boolean inRecovery, ControlState controlState,
      String systemId, Long timeline, Lsn lsn, Lsn replayedLsn, boolean streaming, String upstream,
      List<TimelineSwitch> history, Set<String> slots, boolean postmasterAlive, String probeError,
      Set<String> syncStandbys, Map<String, String> appliedParameters, Set<String> pendingRestart,
      Set<String> appliedReplicationHosts) {
    this(dataDir, running, inRecovery, controlState, systemId, timeline, lsn, replayedLsn, streaming, upstream,
        history, slots, postmasterAlive, probeError, syncStandbys, appliedParameters, pendingRestart,
        appliedReplicationHosts, Map.of());
  }

  /** Without parameter information. */
  public LocalPgState(DataDirState dataDir, boolean running, boolean inRecovery, ControlState controlState,
      String systemId, Long timeline, Lsn lsn, Lsn replayedLsn, boolean streaming, String upstream,
      List<TimelineSwitch> history, Set<String> slots, boolean postmasterAlive, String probeError,
      Set<String> syncStandbys) {
    this(dataDir, running, inRecovery, controlState, systemId, timeline, lsn, replayedLsn, streaming, upstream,
        history, slots, postmasterAlive, probeError, syncStandbys, null, Set.of(), null);
  }

  /** Without synchronous standby information (stopped servers, replicas). */
  public LocalPgState(DataDirState dataDir, boolean running, boolean inRecovery, ControlState controlState,
      String systemId, Long timeline, Lsn lsn, Lsn replayedLsn, boolean streaming, String upstream,
      List<TimelineSwitch> history, Set<String> slots, boolean postmasterAlive, String probeError) {
    this(dataDir, running, inRecovery, controlState, systemId, timeline, lsn, replayedLsn, streaming, upstream,
        history, slots, postmasterAlive, probeError, Set.of());
  }

  public static LocalPgState unknown(String why, boolean postmasterAlive) {
    return unknown(why, postmasterAlive, ControlState.UNKNOWN);
  }

  /**
   * The probe failed, but pg_control (readable without logging in) says what the server last was: a
   * running standby's says "in archive recovery" until its promotion ends.
   */
  public static LocalPgState unknown(String why, boolean postmasterAlive, ControlState control) {
    return new LocalPgState(DataDirState.UNKNOWN, false, false, control, null, null, null, null,
        false, null, null, null, postmasterAlive, why);
  }

  /** The same state, with what the config files hold and what PostgreSQL waits to restart for. */
  public LocalPgState withParameters(Map<String, String> applied, Set<String> pending) {
    return new LocalPgState(dataDir, running, inRecovery, controlState, systemId, timeline, lsn, replayedLsn,
        streaming, upstream, history, slots, postmasterAlive, probeError, syncStandbys, applied, pending,
        appliedReplicationHosts, parameterErrors, syncConfirmed, streamingStandbys);
  }

  /**
   * The same state, with what this agent last applied (parameters, pg_hba.conf's replication hosts) and what
   * PostgreSQL says of it (settings pending a restart, rejected parameters): in one copy, since each copy sorts
   * the parameters again and the probe adds these on every tick.
   */
  public LocalPgState withApplied(Map<String, String> applied, Set<String> pending, Set<String> hosts,
      Map<String, String> errors) {
    return new LocalPgState(dataDir, running, inRecovery, controlState, systemId, timeline, lsn, replayedLsn,
        streaming, upstream, history, slots, postmasterAlive, probeError, syncStandbys, applied, pending,
        hosts, errors, syncConfirmed, streamingStandbys);
  }

  /** The same state, with the standbys pg_stat_replication shows synchronous and streaming. */
  public LocalPgState withSyncConfirmed(Set<String> confirmed) {
    return new LocalPgState(dataDir, running, inRecovery, controlState, systemId, timeline, lsn, replayedLsn,
        streaming, upstream, history, slots, postmasterAlive, probeError, syncStandbys, appliedParameters,
        pendingRestart, appliedReplicationHosts, parameterErrors, confirmed, streamingStandbys);
  }

  /** The same state, with the standbys pg_stat_replication shows streaming from this server. */
  public LocalPgState withStreamingStandbys(Set<String> names) {
    return new LocalPgState(dataDir, running, inRecovery, controlState, systemId, timeline, lsn, replayedLsn,
        streaming, upstream, history, slots, postmasterAlive, probeError, syncStandbys, appliedParameters,
        pendingRestart, appliedReplicationHosts, parameterErrors, syncConfirmed, names);
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
