package io.pgwarden.harness.bench;

import io.pgwarden.agent.etcd.JetcdClusterStore;
import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.agent.port.RawKv;
import io.pgwarden.common.config.EtcdConfig;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Watches one tool's leader key from the benchmark JVM and stamps, with {@link System#nanoTime()} (the clock
 * {@link Writer} stamps its acks with), when the runner first learns that {@code holder} lost it: the key
 * deleted (the lease expired) or written with another holder or lease. The stamp is the moment the event
 * reaches this JVM, so it lags etcd's own deletion by a loopback round trip, not more.
 *
 * <p>Goes through the agent's own etcd client ({@link JetcdClusterStore}): the same jetcd with the same
 * settings, and a watch that says when it is established and when it broke.
 */
public final class LeaderKeyWatch implements AutoCloseable {
  private final String key;
  private final String holder;
  private final ClusterStore store;
  private final CountDownLatch started = new CountDownLatch(1);
  private final CountDownLatch gone = new CountDownLatch(1);
  private volatile long lease;
  private volatile long goneNanos;
  /** A broken watch may have missed the deletion; a change seen after it would be stamped late. */
  private volatile boolean broken;
  private final AutoCloseable watch;

  private LeaderKeyWatch(List<String> endpoints, String key, String holder, Duration timeout) {
    this.key = key;
    this.holder = holder;
    this.store = JetcdClusterStore.connect(new EtcdConfig(endpoints, null, null), null);
    AutoCloseable w = null;
    try {
      w = store.watchPrefix(key, new ClusterStore.ScopeListener() {
        @Override
        public void started(long revision) {
          LeaderKeyWatch.this.started.countDown();
        }

        @Override
        public void changed(List<RawKv> puts, List<String> deletes, long revision) {
          long now = System.nanoTime();
          if (gone.getCount() > 0 && !broken && lost(LeaderKeyWatch.this.key, LeaderKeyWatch.this.holder, lease,
              puts, deletes)) {
            goneNanos = now;
            gone.countDown();
          }
        }

        @Override
        public void broken() {
          broken = true;
        }
      });
      if (!started.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("watch on " + key + " not established within " + timeout);
      }
      // Read after the watch started, so that no change between this read and the watch goes unseen.
      RawKv kv = store.get(key, timeout);
      if (kv == null || !holder.equals(kv.value().trim())) {
        throw new IllegalStateException(key + " is not held by " + holder + ": " + (kv == null ? "absent" : kv));
      }
      lease = kv.lease();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closeQuietly(w);
      store.close();
      throw new IllegalStateException("interrupted while watching " + key, e);
    } catch (RuntimeException e) {
      closeQuietly(w);
      store.close();
      throw e;
    }
    this.watch = w;
  }

  /**
   * Opens the watch and returns once it is established and the key's current lease is known; throws when
   * {@code holder} does not hold {@code key}.
   */
  public static LeaderKeyWatch open(List<String> endpoints, String key, String holder, Duration timeout) {
    return new LeaderKeyWatch(endpoints, key, holder, timeout);
  }

  /**
   * Whether one revision's changes take {@code key} from {@code holder}: a deletion, or a put naming someone
   * else or on another lease ({@code lease} 0: not known yet, only the name counts).
   */
  static boolean lost(String key, String holder, long lease, List<RawKv> puts, List<String> deletes) {
    if (deletes.contains(key)) {
      return true;
    }
    return puts.stream().filter(kv -> kv.key().equals(key))
        .anyMatch(kv -> !holder.equals(kv.value().trim()) || (lease != 0 && kv.lease() != lease));
  }

  /**
   * The {@link System#nanoTime()} at which the loss reached this JVM, waiting up to {@code wait} for it;
   * empty when it did not come or the watch broke before it.
   */
  public OptionalLong goneAt(Duration wait) throws InterruptedException {
    return gone.await(wait.toMillis(), TimeUnit.MILLISECONDS) ? OptionalLong.of(goneNanos) : OptionalLong.empty();
  }

  @Override
  public void close() {
    closeQuietly(watch);
    store.close();
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      // only the measurement is lost; the run goes on
    }
  }
}
