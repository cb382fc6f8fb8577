package io.pgwarden.common.model;

import java.time.Duration;
import java.time.Instant;

/**
 * Everything one decision is based on. Time enters only as durations measured by the agent's own
 * monotonic clock.
 *
 * @param leaderAbsentFor how long this agent has seen no leader key; null while there is one
 * @param leaderAbsentSince the etcd revision of the first read that showed no leader
 * @param lastPrimaryPosition the last position this agent saw the primary publish; null if unknown
 * @param rewindFailed pg_rewind of the current data directory failed or never completed (also across an
 *     agent restart): never start it, take a base backup instead
 * @param request an operator's pending request to this agent (restart, reload, reinit); null: none
 * @param now wall-clock time of the observation, only for scheduled switchovers; never for leases
 * @param standbyJoiningFor how long the member that most recently got on its way (one that {@code
 *     Decider#standbysOnTheirWay} names) has been on it, counted through absences shorter than the
 *     observer's steady period; null while it names none (and taken as just begun when it does)
 */
public record Observation(
    String me,
    Tags tags,
    ClusterView cluster,
    LocalPgState local,
    LeaseState lease,
    InFlight inFlight,
    Duration leaderAbsentFor,
    long leaderAbsentSince,
    WalPosition lastPrimaryPosition,
    boolean rewindFailed,
    OperatorRequest request,
    Instant now,
    Duration standbyJoiningFor) {

  /** Without an operator request, at the epoch. */
  public Observation(String me, Tags tags, ClusterView cluster, LocalPgState local, LeaseState lease,
      InFlight inFlight, Duration leaderAbsentFor, long leaderAbsentSince, WalPosition lastPrimaryPosition,
      boolean rewindFailed) {
    this(me, tags, cluster, local, lease, inFlight, leaderAbsentFor, leaderAbsentSince, lastPrimaryPosition,
        rewindFailed, null, Instant.EPOCH, null);
  }

  public Observation {
    if (me == null || cluster == null || local == null || lease == null) {
      throw new IllegalArgumentException("observation needs me, cluster, local and lease");
    }
    tags = tags == null ? Tags.NONE : tags;
    now = now == null ? Instant.EPOCH : now;
  }

  public DynamicConfig config() {
    return cluster.config();
  }
}
