package io.pgwarden.agent.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import io.pgwarden.agent.etcd.JetcdClusterStore;
import io.pgwarden.agent.local.EtcdServer;
import io.pgwarden.agent.port.ClusterStore.Grant;
import io.pgwarden.agent.port.EtcdUnavailableException;
import io.pgwarden.agent.port.RawKv;
import io.pgwarden.agent.port.RawScope;
import io.pgwarden.common.config.EtcdConfig;
import io.pgwarden.common.time.MonotonicClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The watch-fed scope cache against a real single-member etcd: it follows puts, deletes and the lease
 * expiry of the leader key without range reads, and after etcd restarts it reads from etcd (or fails)
 * until a new watch covers a fresh read.
 */
class WatchedScopeIT {
  private static final Duration T = Duration.ofSeconds(10);
  private static final String P = "/service/it/";

  private Path dir;
  private EtcdServer etcd;
  private JetcdClusterStore store;
  private final List<WatchedScope.KeyChange> wakeups = new CopyOnWriteArrayList<>();
  private WatchedScope scope;
  private AutoCloseable watch;

  @BeforeEach
  void start() throws Exception {
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.INFO);
    dir = Files.createTempDirectory("pgwarden-scope-it");
    etcd = EtcdServer.start(dir.resolve("etcd"), 1);
    store = JetcdClusterStore.connect(new EtcdConfig(etcd.endpoints(), null, null), null);
    scope = new WatchedScope(store, P, MonotonicClock.SYSTEM, wakeups::add);
    watch = store.watchPrefix(P, scope);
  }

  @AfterEach
  void stop() throws Exception {
    if (watch != null) {
      watch.close();
    }
    if (store != null) {
      store.close();
    }
    if (etcd != null) {
      etcd.close();
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Test
  void theCacheFollowsPutsDeletesAndTheLeaderKeysLeaseExpiry() {
    store.put(P + "config", "{}", 0, T);
    awaitSynced();
    long reads = scope.counts()[0];

    Grant g = store.grantLease(Duration.ofSeconds(8), T);
    assertThat(store.putIfAbsent(P + "leader", "node1", g.leaseId(), T)).isTrue();
    awaitCacheEqualsEtcd(Map.of(P + "config", "{}", P + "leader", "node1"));
    RawKv leader = cached(P + "leader");
    assertThat(leader.lease()).isEqualTo(g.leaseId());
    assertThat(leader).isEqualTo(store.get(P + "leader", T));

    // The lease is not renewed: etcd deletes the key, and the watch tells the cache.
    awaitCacheEqualsEtcd(Map.of(P + "config", "{}"));

    store.put(P + "leader", "node2", 0, T);
    awaitCacheEqualsEtcd(Map.of(P + "config", "{}", P + "leader", "node2"));
    assertThat(store.deleteIfValue(P + "leader", "node2", T)).isTrue();
    awaitCacheEqualsEtcd(Map.of(P + "config", "{}"));

    assertThat(scope.counts()[0]).as("no range read while the watch kept the cache").isEqualTo(reads);
    assertThat(wakeups).extracting(WatchedScope.KeyChange::key).contains(P + "leader");
  }

  @Test
  void aWriteOfThisProcessIsInTheVeryNextRead() {
    awaitSynced();
    for (int i = 0; i < 20; i++) {
      store.put(P + "members/node1", "v" + i, 0, T);
      assertThat(values(scope.read(T))).containsEntry(P + "members/node1", "v" + i);
      assertThat(store.putIfAbsent(P + "leader", "node" + i, 0, T)).isTrue();
      assertThat(values(scope.read(T))).containsEntry(P + "leader", "node" + i);
      assertThat(store.deleteIfValue(P + "leader", "node" + i, T)).isTrue();
      assertThat(values(scope.read(T))).doesNotContainKey(P + "leader");
    }
    assertThat(scope.synced()).isTrue();
  }

  @Test
  void afterEtcdRestartsTheCacheIsNotUsedUntilANewWatchCoversAFreshRead() {
    store.put(P + "leader", "node1", 0, T);
    awaitSynced();

    etcd.stop();
    await().atMost(Duration.ofSeconds(60)).until(() -> !scope.synced());
    // Not known healthy: the cache does not answer; the read goes to etcd, which is down.
    assertThatThrownBy(() -> scope.read(Duration.ofSeconds(1))).isInstanceOf(EtcdUnavailableException.class);

    etcd.start();
    // Written before the new watch may have started: the resync must pick it up from the range read.
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .untilAsserted(() -> store.put(P + "leader", "node2", 0, Duration.ofSeconds(2)));
    awaitSynced();
    assertThat(values(scope.read(T))).isEqualTo(Map.of(P + "leader", "node2"));
    store.put(P + "leader", "node3", 0, T);
    awaitCacheEqualsEtcd(Map.of(P + "leader", "node3"));
  }

  private void awaitSynced() {
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
        .until(() -> {
          scope.read(T);
          return scope.synced();
        });
  }

  /** The cache shows {@code expected}, and so does a range read of etcd. */
  private void awaitCacheEqualsEtcd(Map<String, String> expected) {
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
        .untilAsserted(() -> assertThat(scope.cachedValues()).isEqualTo(expected));
    assertThat(values(store.readPrefix(P, T))).isEqualTo(expected);
    assertThat(scope.synced()).isTrue();
  }

  private RawKv cached(String key) {
    return scope.read(T).kvs().stream().filter(kv -> kv.key().equals(key)).findFirst().orElseThrow();
  }

  private static Map<String, String> values(RawScope s) {
    Map<String, String> m = new TreeMap<>();
    s.kvs().forEach(kv -> m.put(kv.key(), kv.value()));
    return m;
  }
}
