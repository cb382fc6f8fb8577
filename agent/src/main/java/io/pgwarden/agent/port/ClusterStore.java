package io.pgwarden.agent.port;

import java.time.Duration;
import java.util.Map;

/**
 * The narrow etcd contract of the agent and CLI. Every call is bounded by {@code timeout} and throws
 * {@link EtcdUnavailableException} when etcd does not answer in time. Writes that decide who leads are
 * compare-and-swap transactions; none is retried blindly.
 */
public interface ClusterStore extends AutoCloseable {

  /** A lease etcd granted: its id and TTL. */
  record Grant(long leaseId, Duration ttl) {}

  Grant grantLease(Duration ttl, Duration timeout);

  /**
   * One keep-alive round trip. Returns the TTL etcd reset the lease to.
   *
   * @throws LeaseLostException when etcd says the lease is gone (TTL <= 0 or not found)
   */
  Duration keepAliveOnce(long leaseId, Duration timeout);

  void revokeLease(long leaseId, Duration timeout);

  /** Every key under {@code prefix} in one range request (one revision). */
  RawScope readPrefix(String prefix, Duration timeout);

  /** One key, or null. */
  RawKv get(String key, Duration timeout);

  /** Unconditional put; {@code leaseId} 0 means no lease. */
  void put(String key, String value, long leaseId, Duration timeout);

  /** Txn: create {@code key} only if it does not exist. Returns whether it was created. */
  boolean putIfAbsent(String key, String value, long leaseId, Duration timeout);

  /**
   * Txn: if {@code guardKey} currently has value {@code guardValue}, put every entry of {@code puts}
   * (without lease); else nothing. Returns whether the puts happened. Fencing for topology/history.
   */
  boolean putAllIfValue(String guardKey, String guardValue, Map<String, String> puts, Duration timeout);

  /**
   * Txn: if {@code key} has value {@code expectedValue}, put {@code newValue} bound to {@code leaseId}.
   * Rebinds our leader key to a new lease after an agent restart.
   */
  boolean putIfValue(String key, String expectedValue, String newValue, long leaseId, Duration timeout);

  /** Txn: put only if {@code key}'s mod revision is {@code modRevision} (0: absent). For config edits. */
  boolean putIfModRevision(String key, String value, long modRevision, Duration timeout);

  /** Txn: delete {@code key} only if its value is {@code expectedValue}. */
  boolean deleteIfValue(String key, String expectedValue, Duration timeout);

  void delete(String key, Duration timeout);

  /** Deletes every key under {@code prefix} in one request; returns how many there were. */
  long deletePrefix(String prefix, Duration timeout);

  /**
   * Watch every key under {@code prefix} (with require-leader) and call {@code onEvent} with the key
   * of each change; re-watch after compaction, a broken stream or a lost etcd leader, calling {@code
   * onEvent} with null each time (the caller must re-read). Returns a handle that stops watching.
   */
  default AutoCloseable watchPrefix(String prefix, java.util.function.Consumer<String> onEvent) {
    return watchPrefix(prefix, new ScopeListener() {
      @Override
      public void started(long revision) {
        onEvent.accept(null);
      }

      @Override
      public void changed(java.util.List<RawKv> puts, java.util.List<String> deletes, long revision) {
        puts.forEach(kv -> onEvent.accept(kv.key()));
        deletes.forEach(onEvent);
      }

      @Override
      public void broken() {
        onEvent.accept(null);
      }
    });
  }

  /**
   * Watch every key under {@code prefix} (with require-leader), delivering the changes themselves.
   * Re-watches after compaction, a broken stream or a lost etcd leader; {@link ScopeListener#broken()}
   * then {@link ScopeListener#started(long)} tell the caller that changes in between were not delivered.
   */
  AutoCloseable watchPrefix(String prefix, ScopeListener listener);

  /**
   * What a prefix watch reports, in order, on one watch thread at a time. Must not block or call the
   * store back.
   */
  interface ScopeListener {
    /**
     * A watch is (re-)established: every change after {@code revision} will be delivered, none at or
     * before it is. Changes made while no watch ran are lost; the caller must re-read.
     */
    void started(long revision);

    /** The changes of one etcd revision (one write or one transaction; a lease expiry deletes). */
    void changed(java.util.List<RawKv> puts, java.util.List<String> deletes, long revision);

    /** An established watch broke: until the next {@link #started(long)} changes may go unreported. */
    void broken();
  }

  @Override
  void close();
}
