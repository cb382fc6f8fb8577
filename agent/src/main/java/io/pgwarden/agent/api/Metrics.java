package io.pgwarden.agent.api;

import io.pgwarden.agent.loop.AgentStatus;
import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.LocalPgState;
import io.pgwarden.common.model.Member;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Observation;
import io.pgwarden.common.model.Role;

/** Prometheus text format (0.0.4), from the last snapshot. */
final class Metrics {
  private Metrics() {}

  static String render(AgentStatus s, String scope) {
    Observation o = s.observation();
    LocalPgState l = o.local();
    ClusterView c = o.cluster();
    String lbl = "{scope=\"" + label(scope) + "\",name=\"" + label(s.member().name()) + "\"}";
    StringBuilder b = new StringBuilder();
    gauge(b, "pgwarden_postgres_running", "1 when PostgreSQL answers queries", lbl, l.running() ? 1 : 0);
    gauge(b, "pgwarden_primary", "1 when running as primary with the lock", lbl, RestApi.isPrimary(s) ? 1 : 0);
    gauge(b, "pgwarden_replica", "1 when running as a replica", lbl, l.runningAsReplica() ? 1 : 0);
    gauge(b, "pgwarden_sync_standby", "1 when a streaming replica recorded as synchronous standby", lbl,
        RestApi.isStandby(s, java.util.Map.of(), true) ? 1 : 0);
    gauge(b, "pgwarden_lease_seconds_left", "seconds before the local lease deadline (0 when not valid)", lbl,
        o.lease().valid() ? o.lease().remaining().toMillis() / 1000.0 : 0);
    gauge(b, "pgwarden_etcd_reachable", "1 when the last read of etcd succeeded", lbl, c.reachable() ? 1 : 0);
    gauge(b, "pgwarden_timeline", "current timeline", lbl, l.timeline() == null ? 0 : l.timeline());
    gauge(b, "pgwarden_wal_position_bytes", "current WAL position (primary: written, replica: received)", lbl,
        l.lsn() == null ? 0 : l.lsn().value());
    if (l.replayedLsn() != null) {
      gauge(b, "pgwarden_wal_replayed_position_bytes", "replica: last replayed WAL position", lbl,
          l.replayedLsn().value());
    }
    gauge(b, "pgwarden_pending_restart", "1 when PostgreSQL has settings only a restart applies", lbl,
        l.running() && !l.pendingRestart().isEmpty() ? 1 : 0);
    gauge(b, "pgwarden_parameter_errors", "PostgreSQL parameters PostgreSQL rejected on the last reload", lbl,
        l.parameterErrors().size());
    gauge(b, "pgwarden_loop_duration_seconds", "duration of the last loop", lbl, s.loopMillis() / 1000.0);
    counter(b, "pgwarden_loop_ticks_total", "loops run", lbl, s.ticks());
    gauge(b, "pgwarden_paused", "1 when the cluster is in maintenance mode", lbl, o.config().paused() ? 1 : 0);
    long failovers = c.history().stream().filter(h -> "failover".equals(h.kind())).count();
    long switchovers = c.history().stream().filter(h -> "switchover".equals(h.kind())).count();
    counter(b, "pgwarden_failovers_total", "failovers recorded in history", lbl, failovers);
    counter(b, "pgwarden_switchovers_total", "planned switchovers recorded in history", lbl, switchovers);
    counter(b, "pgwarden_primary_changes_total", "every change of primary recorded in history", lbl,
        c.history().stream().filter(h -> !"bootstrap".equals(h.kind()) && !"restart".equals(h.kind())).count());
    replicationLag(b, s, scope);
    return b.toString();
  }

  /**
   * Bytes each replica is behind the primary, both as published in etcd (as seen in the last
   * observation), labelled by member. Nothing when there is no primary to compare with.
   */
  private static void replicationLag(StringBuilder b, AgentStatus s, String scope) {
    ClusterView c = s.observation().cluster();
    MemberStatus primary = c.hasLeader() ? c.member(c.leader().holder()) : null;
    String name = "pgwarden_replication_lag_bytes";
    b.append("# HELP ").append(name).append(" bytes a replica's received WAL is behind the primary's, from etcd\n");
    b.append("# TYPE ").append(name).append(" gauge\n");
    if (primary == null || primary.lsn() == null || primary.role() != Role.PRIMARY) {
      return;
    }
    for (Member m : c.members().values()) {
      MemberStatus r = m.status();
      if (r.role() != Role.REPLICA || r.lsn() == null) {
        continue;
      }
      String lbl = "{scope=\"" + label(scope) + "\",name=\"" + label(s.member().name()) + "\",member=\""
          + label(r.name()) + "\"}";
      sample(b, name, lbl, Math.max(0, primary.lsn().minus(r.lsn())));
    }
  }

  /** A label value: backslash, double quote and line feed escaped, as the text format requires. */
  static String label(String v) {
    return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  private static void gauge(StringBuilder b, String name, String help, String labels, double value) {
    typed(b, name, help, "gauge", labels, value);
  }

  private static void counter(StringBuilder b, String name, String help, String labels, double value) {
    typed(b, name, help, "counter", labels, value);
  }

  private static void typed(StringBuilder b, String name, String help, String type, String labels, double value) {
    b.append("# HELP ").append(name).append(' ').append(help).append('\n');
    b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    sample(b, name, labels, value);
  }

  private static void sample(StringBuilder b, String name, String labels, double value) {
    b.append(name).append(labels).append(' ');
    if (value == Math.rint(value)) {
      b.append((long) value);
    } else {
      b.append(value);
    }
    b.append('\n');
  }
}
