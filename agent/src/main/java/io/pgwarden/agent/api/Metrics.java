package io.pgwarden.agent.api;

import io.pgwarden.agent.loop.AgentStatus;
import io.pgwarden.common.model.LocalPgState;
import io.pgwarden.common.model.Observation;
import io.pgwarden.common.time.MonotonicClock;

/** Prometheus text format, from the last snapshot. */
final class Metrics {
  private Metrics() {}

  static String render(AgentStatus s, MonotonicClock clock) {
    Observation o = s.observation();
    LocalPgState l = o.local();
    String lbl = "{scope=\"\",name=\"" + s.member().name() + "\"}";
    StringBuilder b = new StringBuilder();
    gauge(b, "pgwarden_postgres_running", "1 when PostgreSQL answers queries", lbl, l.running() ? 1 : 0);
    gauge(b, "pgwarden_primary", "1 when running as primary with the lock", lbl, RestApi.isPrimary(s) ? 1 : 0);
    gauge(b, "pgwarden_replica", "1 when running as a replica", lbl, l.runningAsReplica() ? 1 : 0);
    gauge(b, "pgwarden_lease_seconds_left", "seconds before the local lease deadline", lbl,
        o.lease().remaining().toMillis() / 1000.0);
    gauge(b, "pgwarden_etcd_reachable", "1 when the last read of etcd succeeded", lbl, o.cluster().reachable() ? 1 : 0);
    gauge(b, "pgwarden_timeline", "current timeline", lbl, l.timeline() == null ? 0 : l.timeline());
    gauge(b, "pgwarden_wal_position_bytes", "current WAL position (primary: written, replica: received)", lbl,
        l.lsn() == null ? 0 : l.lsn().value());
    gauge(b, "pgwarden_loop_duration_seconds", "duration of the last loop", lbl, s.loopMillis() / 1000.0);
    gauge(b, "pgwarden_loop_ticks_total", "loops run", lbl, s.ticks());
    gauge(b, "pgwarden_paused", "1 when the cluster is in maintenance mode", lbl, o.config().paused() ? 1 : 0);
    gauge(b, "pgwarden_failovers_total", "changes of primary recorded in history", lbl, o.cluster().history().size());
    return b.toString();
  }

  private static void gauge(StringBuilder b, String name, String help, String labels, double value) {
    b.append("# HELP ").append(name).append(' ').append(help).append('\n');
    b.append("# TYPE ").append(name).append(" gauge\n");
    b.append(name).append(labels).append(' ');
    if (value == Math.rint(value)) {
      b.append((long) value);
    } else {
      b.append(value);
    }
    b.append('\n');
  }
}
