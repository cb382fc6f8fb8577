package io.pgwarden.harness.bench;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;

/**
 * A 3-node HA cluster on loopback as the side-by-side benchmarks see it: pgwarden or Patroni, each on its
 * own etcd, the same PostgreSQL 15. Everything is observed from outside (etcd, SQL, /proc, logs).
 */
public interface BenchCluster extends Writer.PrimaryConnections, AutoCloseable {
  /** "pgwarden" or "Patroni". */
  String tool();

  /** Time the start spent on one-off work an installed node does not repeat (bootstrap leaves it out). */
  default java.time.Duration oneOffSetup() {
    return java.time.Duration.ZERO;
  }

  List<String> nodes();

  /** The holder of the leader key in etcd; empty when nobody holds it or etcd does not answer. */
  Optional<String> leader();

  /** The leader key in etcd, whose value is the holder's name (on the holder's lease). */
  String leaderKey();

  Connection connect(String node) throws SQLException;

  /** Leader writable, every other node streaming from it, and a synchronous standby when synchronous mode is on. */
  boolean ready();

  /** Whether the tool runs this cluster in synchronous mode. */
  boolean synchronous();

  /** SIGKILL of the node's agent and its postmaster together. */
  void powerOff(String node);

  /** Starts the node's agent again (after {@link #powerOff}). */
  void restart(String node);

  /** The candidate a planned switchover away from {@code leader} should name. */
  String switchoverTarget(String leader);

  /** Runs the tool's own switchover command and returns when it returned; throws when it failed. */
  void switchover(String from, String to);

  long agentPid(String node);

  List<String> etcdEndpoints();

  /** The agent's log text (for rewind / base backup evidence). */
  String agentLog(String node);

  /** Whether the log text written since a restart shows pg_rewind / a base backup. */
  boolean logShowsRewind(String logSinceRestart);

  boolean logShowsBaseBackup(String logSinceRestart);

  /** Copies logs under {@code dir} for a post-mortem. */
  void saveLogs(Path dir);

  @Override
  void close();

  // ---- shared SQL observations ----

  default Optional<String> query(String node, String sql) {
    try (Connection c = connect(node); Statement st = c.createStatement()) {
      st.setQueryTimeout(5);
      try (ResultSet rs = st.executeQuery(sql)) {
        return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
      }
    } catch (SQLException e) {
      return Optional.empty();
    }
  }

  /** Whether {@code standby} streams from {@code primary} (pg_stat_replication on the primary). */
  default boolean streamingFrom(String primary, String standby) {
    try (Connection c = connect(primary);
        PreparedStatement ps = c.prepareStatement(
            "SELECT count(*) FROM pg_stat_replication WHERE application_name = ? AND state = 'streaming'")) {
      ps.setQueryTimeout(5);
      ps.setString(1, standby);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getLong(1) > 0;
      }
    } catch (SQLException e) {
      return false;
    }
  }

  /** Leader is a writable primary and every other node streams from it; with {@code sync}, one is synchronous. */
  default boolean streamingCluster(boolean sync) {
    Optional<String> l = leader();
    if (l.isEmpty() || !query(l.get(), "SELECT NOT pg_is_in_recovery()").map("t"::equals).orElse(false)) {
      return false;
    }
    long streaming = query(l.get(), "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
        .map(Long::parseLong).orElse(0L);
    if (streaming < nodes().size() - 1) {
      return false;
    }
    return !sync || query(l.get(), "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")
        .map(Long::parseLong).orElse(0L) > 0;
  }
}
