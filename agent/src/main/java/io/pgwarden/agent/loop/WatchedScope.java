package io.pgwarden.agent.loop;

import io.pgwarden.agent.etcd.JetcdClusterStore;
import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.agent.port.RawKv;
import io.pgwarden.agent.port.RawScope;
import io.pgwarden.common.time.MonotonicClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scope as of one range read plus the changes the prefix watch delivered since, so that an idle
 * agent does not range-read the whole scope on every tick. {@link #read} answers from the cache only
 * while it is known to be complete: the watch is running, a range read at a revision {@code R} the
 * watch covers (R at or after the watch's start revision) was installed, and every change after R
 * was applied. Otherwise — watch not yet started, broken, cancelled (compaction, lost etcd leader),
 * a read older than the watch, a write of this process the watch has not delivered yet (the loop must
 * see its own writes), a write whose outcome is unknown, or more than {@link #fullReadPeriod} since
 * the last range read — it
 * does a range read, exactly as without the cache, and installs it when the watch covers it.
 *
 * <p>A cached view may lag etcd by the watch's delivery delay. That can delay a decision, never make
 * one unsafe: every change of the leader key is a compare-and-swap in etcd (docs/safety.md), and the
 * leader's own lease deadline comes from its renewals, not from this view.
 *
 * <p>{@link #read} is called by the loop thread; the listener methods by the store's watch thread.
 */
public final class WatchedScope implements ClusterStore.ScopeListener {
  private static final Logger log = LoggerFactory.getLogger(WatchedScope.class);

  /**
   * The shortest period between full range reads of a cached view; see {@link #fullReadPeriod}. The watch
   * alone is complete (etcd delivers every change in order or cancels the watch), and a dead connection is
   * noticed by gRPC's keepalive (10 s + 5 s) which breaks the watch; this re-read only bounds what an
   * undetected fault of the watch path (a client-library bug, a lost event) could hide. 30 s costs 2 range
   * reads per member per minute against 30 at loop_wait 2 without the cache, and the worst such fault then
   * delays a failover by at most 30 s — while no two leaders can arise from it at all.
   */
  public static final Duration FULL_READ_PERIOD = Duration.ofSeconds(30);

  /**
   * The longest a cached view goes without a full range read at this ttl: {@link #FULL_READ_PERIOD}, or two
   * ttls when that is longer. An operator who chose a ttl of 30 s accepts failovers of 30 s and more, so
   * the worst a hidden watch fault could add keeps the same proportion to that as at the default ttl,
   * while a loop of 10 s does not range-read on every third tick.
   */
  public static Duration fullReadPeriod(Duration ttl) {
    Duration twice = ttl.multipliedBy(2);
    return twice.compareTo(FULL_READ_PERIOD) > 0 ? twice : FULL_READ_PERIOD;
  }

  /** More changes than this during one range read: give up caching for this round rather than hold them. */
  static final int MAX_BUFFERED_REVISIONS = 10_000;

  private final Function<Duration, RawScope> rangeRead;
  private final String prefix;
  private final MonotonicClock clock;
  private final Consumer<KeyChange> onChange;
  private final LongSupplier lastWriteRevision;
  private final LongSupplier uncertainWrites;
  /** {@link #uncertainWrites} as of the start of the range read the cache was built from. */
  private long uncertainSeen;

  // Guarded by this.
  /** Revision the running watch started at; -1 while no watch is known to run. */
  private long watchStart = -1;
  private boolean synced;
  private final TreeMap<String, RawKv> kvs = new TreeMap<>();
  private long revision;
  /** Revision of the range read the cache was built from: watched changes at or before it are in it. */
  private long readRevision;
  private long readAtNanos;
  /** Set while the loop's range read is on the wire: changes arriving meanwhile are kept for it. */
  private boolean reading;
  private final List<Change> duringRead = new ArrayList<>();
  private long fullReads;
  private long cachedReads;
  /** The last {@link #snapshot()}, until the cache changes. */
  private RawScope snapshot;

  private record Change(List<RawKv> puts, List<String> deletes, long revision) {}

  /**
   * What the listener hears: a key that changed, and whether it was created or deleted rather than
   * rewritten; a null key means anything may have changed (the watch started or broke).
   */
  public record KeyChange(String key, boolean createdOrDeleted) {
    static final KeyChange ANY = new KeyChange(null, true);

    /**
     * Whether this change should wake the loop. A member's status rewrites (every tick, as its WAL
     * moves) need no immediate reaction; anything else does, and so does a member appearing or
     * vanishing: a returning node's walreceiver connects about a second after its agent starts, and if
     * the leader has not made its slot by then it retries only after wal_retrieve_retry_interval (1 s; PostgreSQL's default is 5 s).
     */
    public boolean wakesLoop(String membersPrefix) {
      return key == null || createdOrDeleted || !key.startsWith(membersPrefix);
    }
  }

  /**
   * @param onChange called after each change is applied, once per key, and with {@link KeyChange#key()}
   *     null when the watch (re)starts or breaks; for waking the loop
   */
  public WatchedScope(JetcdClusterStore store, String prefix, MonotonicClock clock, Consumer<KeyChange> onChange) {
    this(timeout -> store.readPrefix(prefix, timeout), prefix, clock, onChange, store::lastWriteRevision,
        store::uncertainWrites);
  }

  /**
   * @param rangeRead one range read of the whole prefix, as {@link ClusterStore#readPrefix}
   * @param lastWriteRevision the revision of this process's latest write that changed something: the
   *     cache answers only once it has caught up with it (a loop must see its own writes)
   * @param uncertainWrites counts writes whose outcome is unknown (failed, timed out): each one forces
   *     a range read, since it may have been applied at a revision nobody knows
   */
  public WatchedScope(Function<Duration, RawScope> rangeRead, String prefix, MonotonicClock clock,
      Consumer<KeyChange> onChange, LongSupplier lastWriteRevision, LongSupplier uncertainWrites) {
    this.lastWriteRevision = lastWriteRevision;
    this.uncertainWrites = uncertainWrites;
    this.rangeRead = rangeRead;
    this.prefix = prefix;
    this.clock = clock;
    this.onChange = onChange;
  }

  /** {@link #read(Duration, Duration)} at the shortest full-read period. */
  public RawScope read(Duration timeout) {
    return read(timeout, FULL_READ_PERIOD);
  }

  /**
   * The scope, from the cache when it is complete and was range-read less than {@code fullReadPeriod}
   * ago, else by one range read (which may throw what {@link ClusterStore#readPrefix} throws).
   */
  public RawScope read(Duration timeout, Duration fullReadPeriod) {
    long watchAtStart;
    long uncertain = uncertainWrites.getAsLong();
    long ownWrite = lastWriteRevision.getAsLong();
    synchronized (this) {
      if (synced && clock.nanoTime() - readAtNanos < fullReadPeriod.toNanos() && revision >= ownWrite
          && uncertain == uncertainSeen) {
        cachedReads++;
        return snapshot();
      }
      watchAtStart = watchStart;
      reading = true;
      duringRead.clear();
    }
    RawScope fresh;
    try {
      fresh = rangeRead.apply(timeout);
    } finally {
      synchronized (this) {
        reading = false;
      }
    }
    synchronized (this) {
      fullReads++;
      boolean covered = watchAtStart >= 0 && watchStart == watchAtStart && fresh.revision() >= watchStart
          && duringRead.size() <= MAX_BUFFERED_REVISIONS;
      if (!covered) {
        if (synced) {
          log.debug("scope cache dropped: the watch changed during the re-read");
        }
        synced = false;
        duringRead.clear();
        return fresh;
      }
      kvs.clear();
      snapshot = null;
      for (RawKv kv : fresh.kvs()) {
        kvs.put(kv.key(), kv);
      }
      revision = fresh.revision();
      readRevision = fresh.revision();
      uncertainSeen = uncertain;
      readAtNanos = clock.nanoTime();
      for (Change c : duringRead) {
        apply(c);
      }
      duringRead.clear();
      if (!synced) {
        log.debug("scope cache synced at revision {} (watch from {})", readRevision, watchStart);
      }
      synced = true;
      return snapshot();
    }
  }

  /** Whether the next {@link #read} may be answered without a range read (for tests and metrics). */
  public synchronized boolean synced() {
    return synced;
  }

  /** Range reads and cached answers so far. */
  public synchronized long[] counts() {
    return new long[] {fullReads, cachedReads};
  }

  @Override
  public void started(long watchRevision) {
    synchronized (this) {
      watchStart = watchRevision;
      synced = false;
    }
    onChange.accept(KeyChange.ANY);
  }

  @Override
  public void changed(List<RawKv> puts, List<String> deletes, long changeRevision) {
    Change c = new Change(puts, deletes, changeRevision);
    synchronized (this) {
      if (reading) {
        duringRead.add(c);
      }
      if (synced) {
        apply(c);
      }
    }
    for (RawKv kv : puts) {
      onChange.accept(new KeyChange(kv.key(), kv.version() == 1));
    }
    for (String key : deletes) {
      onChange.accept(new KeyChange(key, true));
    }
  }

  @Override
  public void broken() {
    synchronized (this) {
      watchStart = -1;
      synced = false;
    }
    onChange.accept(KeyChange.ANY);
  }

  /** Applies one revision's changes unless the range read already contained them. Holds this. */
  private void apply(Change c) {
    if (c.revision() <= readRevision) {
      return;
    }
    snapshot = null;
    for (RawKv kv : c.puts()) {
      kvs.put(kv.key(), kv);
    }
    for (String key : c.deletes()) {
      kvs.remove(key);
    }
    revision = Math.max(revision, c.revision());
  }

  private RawScope snapshot() {
    // The same object while nothing changed: an idle scope is read every tick, and its parser knows an
    // unchanged scope by identity before comparing every key.
    if (snapshot == null) {
      snapshot = new RawScope(revision, List.copyOf(kvs.values()));
    }
    return snapshot;
  }

  @Override
  public synchronized String toString() {
    return "WatchedScope[" + prefix + ", synced=" + synced + ", revision=" + revision + ", keys="
        + kvs.size() + "]";
  }

  /** For tests: the cached keys and values. */
  synchronized Map<String, String> cachedValues() {
    Map<String, String> m = new TreeMap<>();
    kvs.forEach((k, v) -> m.put(k, v.value()));
    return m;
  }
}
