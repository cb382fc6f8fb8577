package io.pgwarden.common.model;

import java.util.List;

/**
 * The desired state, written only by the lock holder in a txn guarded by its leader key.
 *
 * @param term bumped on every change of primary; a node that sees a newer term than the one it
 *     served under knows it is stale
 * @param timeline the primary's timeline when it took office: the cluster's latest timeline
 * @param syncStandbys members PostgreSQL may wait for; recorded before they are set in
 *     synchronous_standby_names and removed only after PostgreSQL stopped waiting for them
 */
public record Topology(long term, String primary, long timeline, List<String> syncStandbys) {
  public Topology {
    if (term < 1) {
      throw new IllegalArgumentException("topology.term must be >= 1, got " + term);
    }
    if (primary == null || primary.isBlank()) {
      throw new IllegalArgumentException("topology.primary is missing");
    }
    if (timeline < 1) {
      throw new IllegalArgumentException("topology.timeline must be >= 1, got " + timeline);
    }
    syncStandbys = syncStandbys == null ? List.of() : List.copyOf(syncStandbys);
  }
}
