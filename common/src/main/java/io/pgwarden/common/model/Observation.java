package io.pgwarden.common.model;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

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
 * @param standbysOnTheirWay the members {@code Decider#standbysOnTheirWay} names for this observation's
 *     cluster and local state, by name, each with how long the observer has timed its way (through
 *     absences shorter than its steady period); worked out once per tick, by the observer. Empty when
 *     none is, and when etcd could not be read
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
    List<StandbyOnItsWay> standbysOnTheirWay) {

  /** Without an operator request, at the epoch. */
  public Observation(String me, Tags tags, ClusterView cluster, LocalPgState local, LeaseState lease,
      InFlight inFlight, Duration leaderAbsentFor, long leaderAbsentSince, WalPosition lastPrimaryPosition,
      boolean rewindFailed) {
    this(me, tags, cluster, local, lease, inFlight, leaderAbsentFor, leaderAbsentSince, lastPrimaryPosition,
        rewindFailed, null, Instant.EPOCH, List.of());
  }

  public Observation {
    if (me == null || cluster == null || local == null || lease == null) {
      throw new IllegalArgumentException("observation needs me, cluster, local and lease");
    }
    tags = tags == null ? Tags.NONE : tags;
    now = now == null ? Instant.EPOCH : now;
    standbysOnTheirWay = standbysOnTheirWay == null ? List.of() : List.copyOf(standbysOnTheirWay);
  }

  public DynamicConfig config() {
    return cluster.config();
  }
}
