package io.pgwarden.common.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.time.Duration;
import java.util.Map;

/**
 * Cluster-wide settings kept in {@code /config}. Durations are whole seconds, as in Patroni, so an
 * operator's {@code set-config ttl=30} means what it says.
 */
public record DynamicConfig(
    Integer ttl,
    Integer loopWait,
    Integer retryTimeout,
    Long maximumLagOnFailover,
    SynchronousMode synchronousMode,
    Integer synchronousNodeCount,
    Boolean pause,
    Map<String, String> parameters) {

  // Fast enough that a failover takes about half of Patroni's default, slow enough that one lost
  // renewal (every 2 s) or a long GC pause does not cost the lease: the deadline is 6 s after the last
  // successful renewal was sent, and etcd's expiry 4 s after that.
  public static final int DEFAULT_TTL = 10;
  public static final int DEFAULT_LOOP_WAIT = 2;
  public static final int DEFAULT_RETRY_TIMEOUT = 4;
  public static final long DEFAULT_MAXIMUM_LAG_ON_FAILOVER = 1024L * 1024 * 1024;

  /**
   * Settings pgwarden itself writes for each node (addresses, replication source, synchronous
   * standbys): the cluster-wide config may not override them, as Patroni ignores them there too.
   */
  public static final java.util.Set<String> MANAGED_PARAMETERS = java.util.Set.of(
      "listen_addresses", "port", "unix_socket_directories", "cluster_name", "hot_standby",
      "synchronous_standby_names", "primary_conninfo", "primary_slot_name", "recovery_target_timeline");

  public static final DynamicConfig DEFAULTS = new DynamicConfig(null, null, null, null, null, null, null, null);

  public DynamicConfig {
    ttl = ttl == null ? DEFAULT_TTL : ttl;
    loopWait = loopWait == null ? DEFAULT_LOOP_WAIT : loopWait;
    retryTimeout = retryTimeout == null ? DEFAULT_RETRY_TIMEOUT : retryTimeout;
    maximumLagOnFailover = maximumLagOnFailover == null ? DEFAULT_MAXIMUM_LAG_ON_FAILOVER : maximumLagOnFailover;
    synchronousMode = synchronousMode == null ? SynchronousMode.ON : synchronousMode;
    synchronousNodeCount = synchronousNodeCount == null ? 1 : synchronousNodeCount;
    pause = pause != null && pause;
    parameters = parameters == null ? Map.of() : SortedMaps.of(parameters);
    if (ttl < 2) {
      throw new IllegalArgumentException("ttl must be >= 2 seconds, got " + ttl);
    }
    if (loopWait < 1) {
      throw new IllegalArgumentException("loop_wait must be >= 1 second, got " + loopWait);
    }
    if (retryTimeout < 1) {
      throw new IllegalArgumentException("retry_timeout must be >= 1 second, got " + retryTimeout);
    }
    // Patroni's rule: a leader that last renewed just before a loop_wait sleep and then spends two
    // retry_timeouts failing must still have time to stop writes before the lease expires.
    if (loopWait + 2L * retryTimeout > ttl) {
      throw new IllegalArgumentException(
          "loop_wait + 2*retry_timeout must be <= ttl, got "
              + loopWait + " + 2*" + retryTimeout + " > " + ttl);
    }
    if (maximumLagOnFailover < 0) {
      throw new IllegalArgumentException("maximum_lag_on_failover must be >= 0, got " + maximumLagOnFailover);
    }
    if (synchronousNodeCount < 1) {
      throw new IllegalArgumentException("synchronous_node_count must be >= 1, got " + synchronousNodeCount);
    }
    for (Map.Entry<String, String> e : parameters.entrySet()) {
      String p = e.getKey();
      if (!p.matches("[a-z_][a-z0-9_.]*")) {
        throw new IllegalArgumentException("parameters: '" + p + "' is not a PostgreSQL parameter name");
      }
      if (MANAGED_PARAMETERS.contains(p)) {
        throw new IllegalArgumentException("parameters." + p + ": managed by pgwarden, cannot be set in /config");
      }
      if (e.getValue() == null) {
        throw new IllegalArgumentException("parameters." + p + ": value is missing");
      }
      if (e.getValue().chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
        throw new IllegalArgumentException("parameters." + p + ": value contains a control character (newline?)");
      }
    }
  }

  @JsonIgnore
  public Duration ttlDuration() {
    return Duration.ofSeconds(ttl);
  }

  @JsonIgnore
  public Duration loopWaitDuration() {
    return Duration.ofSeconds(loopWait);
  }

  @JsonIgnore
  public Duration retryTimeoutDuration() {
    return Duration.ofSeconds(retryTimeout);
  }

  @JsonIgnore
  public boolean paused() {
    return pause;
  }
}
