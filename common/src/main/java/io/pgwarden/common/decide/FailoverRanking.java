package io.pgwarden.common.decide;

import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.Member;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Observation;
import io.pgwarden.common.model.Role;
import io.pgwarden.common.model.SynchronousMode;
import io.pgwarden.common.model.Tags;
import io.pgwarden.common.model.WalPosition;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Orders the members that may be promoted (safety invariant 7): a running replica of this cluster,
 * on the cluster's latest timeline, not tagged nofailover, within maximum_lag_on_failover, and in
 * synchronous mode a recorded synchronous standby; best first by WAL received (compared with its
 * timeline), then failover_priority, then name.
 */
public final class FailoverRanking {
  private FailoverRanking() {}

  /** A member that may be promoted, with the position it would be promoted at. */
  public record Candidate(String name, WalPosition position, int priority, long modRevision) {}

  /** Why {@code status} may not be promoted, or empty when it may. */
  public static Optional<String> ineligibility(MemberStatus s, ClusterView c) {
    if (s.role() != Role.REPLICA || !s.isRunning()) {
      return Optional.of("not a running replica (" + s.role().json() + ", " + s.state() + ")");
    }
    Tags t = s.tags();
    if (!t.canFailover()) {
      return Optional.of("tagged nofailover");
    }
    if (c.initialize() == null || c.initialize().isEmpty() || !c.initialize().equals(s.systemId())) {
      return Optional.of("system identifier " + s.systemId() + " is not the cluster's (" + c.initialize() + ")");
    }
    WalPosition p = s.position();
    if (p == null) {
      return Optional.of("WAL position unknown");
    }
    long latest = c.latestTimeline();
    if (latest > 0 && p.timeline() != latest) {
      return Optional.of("on timeline " + p.timeline() + ", the cluster is on " + latest);
    }
    // With synchronous replication, only a recorded synchronous standby is known to hold every
    // acknowledged commit; with none recorded, nobody is (the primary ran alone).
    // The recorded primary itself (crashed, restarted read-only, still on the latest timeline) has
    // every commit it acknowledged.
    if (c.config().synchronousMode() != SynchronousMode.OFF && c.topology() == null && !c.history().isEmpty()) {
      // Deleted by hand: the history says terms were recorded, so the standbys that hold every commit were
      // named, and the names are gone. Before the first record (a bootstrap cut short) nothing was acknowledged
      // on a standby's word.
      return Optional.of("the topology key is missing though the history records " + c.history().size()
          + " term(s), so which standby has every acknowledged commit is unknown");
    }
    if (c.config().synchronousMode() != SynchronousMode.OFF
        && c.topology() != null
        && !c.topology().syncStandbys().contains(s.name())
        && !c.topology().primary().equals(s.name())) {
      return Optional.of(c.topology().syncStandbys().isEmpty()
          ? "no synchronous standby was recorded, so no replica is known to have every acknowledged commit"
          : "not a synchronous standby (" + c.topology().syncStandbys() + ")");
    }
    return Optional.empty();
  }

  /**
   * Ranks eligible members. Our own entry uses {@code self}, the live local status, rather than what
   * we last published.
   */
  public static List<Candidate> rank(Observation obs, MemberStatus self) {
    ClusterView c = obs.cluster();
    List<Candidate> out = new ArrayList<>();
    // A key without a lease is no live agent: waiting for it to take over would only delay failover.
    for (Member m : c.liveMembers()) {
      if (m.name().equals(obs.me())) {
        continue;
      }
      if (ineligibility(m.status(), c).isEmpty()) {
        out.add(new Candidate(m.name(), m.status().position(), m.status().tags().failoverPriority(), m.modRevision()));
      }
    }
    if (self != null && ineligibility(self, c).isEmpty()) {
      out.add(new Candidate(self.name(), self.position(), self.tags().failoverPriority(), Long.MAX_VALUE));
    }
    out.sort(
        Comparator.comparing(Candidate::position, Comparator.reverseOrder())
            .thenComparing(Candidate::priority, Comparator.reverseOrder())
            .thenComparing(Candidate::name));
    // maximum_lag_on_failover is measured against the best known position on the same timeline: the
    // primary's last published one, or the best candidate's.
    WalPosition reference = obs.lastPrimaryPosition();
    if (!out.isEmpty() && (reference == null || out.get(0).position().compareTo(reference) > 0)) {
      reference = out.get(0).position();
    }
    long maxLag = c.config().maximumLagOnFailover();
    WalPosition ref = reference;
    out.removeIf(
        cand -> ref != null
            && (cand.position().timeline() != ref.timeline()
                || ref.lsn().minus(cand.position().lsn()) > maxLag));
    return out;
  }
}
