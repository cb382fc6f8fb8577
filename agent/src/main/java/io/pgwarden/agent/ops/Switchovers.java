package io.pgwarden.agent.ops;

import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.agent.port.RawKv;
import io.pgwarden.common.config.Keys;
import io.pgwarden.common.json.Json;
import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Role;
import io.pgwarden.common.model.Switchover;
import java.time.Duration;
import java.time.Instant;

/**
 * Checks a planned switchover or forced failover against one read of the cluster and writes it to
 * {@code /switchover}. The agents carry it out; a checked request can still be refused by them when
 * the cluster changed meanwhile.
 */
public final class Switchovers {
  private Switchovers() {}

  /**
   * Builds the request for a switchover (force false) or failover (force true) and checks it. Throws
   * {@link IllegalArgumentException} with a one-line reason.
   */
  public static Switchover plan(ClusterView v, String from, String to, String at, boolean force,
      boolean allowDataLoss) {
    if (!v.reachable()) {
      throw new IllegalStateException("etcd is not reachable: " + v.unreachableReason());
    }
    String leader = v.hasLeader() ? v.leader().holder() : null;
    if (from != null && !from.equals(leader)) {
      throw new IllegalArgumentException(from + " is not the leader (the leader is "
          + (leader == null ? "nobody" : leader) + ")");
    }
    if (!force && leader == null) {
      throw new IllegalArgumentException("there is no leader to switch over from; use `pgwarden failover --to NAME`");
    }
    if (force && to == null) {
      throw new IllegalArgumentException("a failover needs a candidate (--to NAME)");
    }
    if (to != null) {
      checkCandidate(v, to, leader, force);
    } else if (healthyReplicas(v, leader) == 0) {
      throw new IllegalArgumentException("no running replica could take over");
    }
    return new Switchover(leader, to, scheduledAt(at, Instant.now()), force ? true : null,
        allowDataLoss ? true : null);
  }

  private static void checkCandidate(ClusterView v, String to, String leader, boolean force) {
    MemberStatus m = v.member(to);
    if (m == null) {
      throw new IllegalArgumentException(to + " is not a member of the cluster (members: "
          + String.join(", ", v.members().keySet()) + ")");
    }
    if (to.equals(leader)) {
      throw new IllegalArgumentException(to + " is already the leader");
    }
    if (!v.members().get(to).leaseBound()) {
      throw new IllegalArgumentException("the member key of " + to + " is not bound to a lease, so it was not "
          + "written by a live agent (written by hand?); no agent would take over");
    }
    if (!force && !(m.role() == Role.REPLICA && m.isRunning())) {
      throw new IllegalArgumentException(to + " is not a running replica (role " + m.role().json() + ", state "
          + m.state() + ")");
    }
    if (m.tags().nofailover()) {
      throw new IllegalArgumentException(to + " is tagged nofailover");
    }
  }

  private static long healthyReplicas(ClusterView v, String leader) {
    return v.liveMembers().stream().map(x -> x.status())
        .filter(s -> !s.name().equals(leader) && s.role() == Role.REPLICA && s.isRunning() && !s.tags().nofailover())
        .count();
  }

  /**
   * {@code now} or null: now; otherwise an ISO-8601 instant (or offset date-time) not before
   * {@code now}. A time already past would otherwise run at once, which the operator did not ask for.
   */
  static String scheduledAt(String at, Instant now) {
    if (at == null || at.equalsIgnoreCase("now")) {
      return null;
    }
    Instant t;
    try {
      t = Instant.parse(at);
    } catch (java.time.format.DateTimeParseException e) {
      try {
        t = java.time.OffsetDateTime.parse(at).toInstant();
      } catch (java.time.format.DateTimeParseException e2) {
        throw new IllegalArgumentException("--at must be \"now\" or an ISO-8601 time like 2026-01-31T23:00:00Z, got '"
            + at + "'");
      }
    }
    if (t.isBefore(now)) {
      throw new IllegalArgumentException("cannot schedule a switchover in the past: " + t + " is before now ("
          + now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + "); give a later time, or \"now\"");
    }
    return t.toString();
  }

  /** Writes the request unless one is pending. Returns false when one is. */
  public static boolean submit(ClusterStore store, Keys keys, Switchover s, Duration timeout) {
    return store.putIfAbsent(keys.switchover(), Json.write(s), 0, timeout);
  }

  /** The pending request's raw JSON, or null. */
  public static String pending(ClusterStore store, Keys keys, Duration timeout) {
    RawKv kv = store.get(keys.switchover(), timeout);
    return kv == null ? null : kv.value();
  }
}
