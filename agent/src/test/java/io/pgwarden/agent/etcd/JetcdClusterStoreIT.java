package io.pgwarden.agent.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import io.pgwarden.agent.local.EtcdServer;
import io.pgwarden.agent.port.ClusterStore.Grant;
import io.pgwarden.agent.port.EtcdUnavailableException;
import io.pgwarden.agent.port.LeaseLostException;
import io.pgwarden.agent.port.PghaException;
import io.pgwarden.agent.port.RawKv;
import io.pgwarden.agent.port.RawScope;
import io.pgwarden.common.config.Credentials;
import io.pgwarden.common.config.EtcdConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.slf4j.LoggerFactory;

/** JetcdClusterStore against a real 3-member etcd on loopback (and a 1-member one for outages). */
class JetcdClusterStoreIT {
  /** Generous: a 3-member etcd on a busy 2-core machine can take seconds to commit. */
  private static final Duration T = Duration.ofSeconds(10);

  private static Path dir;
  private static EtcdServer etcd;
  private static JetcdClusterStore store;

  private String p;

  @BeforeAll
  static void startEtcd() throws IOException {
    // No logback-test.xml in this module yet; netty and grpc DEBUG output would drown the test log.
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.INFO);
    dir = Files.createTempDirectory("pgwarden-etcd-it");
    etcd = EtcdServer.start(dir.resolve("three"), 3);
    store = JetcdClusterStore.connect(new EtcdConfig(etcd.endpoints(), null, null), null);
  }

  @AfterAll
  static void stopEtcd() throws IOException {
    if (store != null) {
      store.close();
    }
    if (etcd != null) {
      etcd.close();
    }
    deleteTree(dir);
  }

  @BeforeEach
  void prefix(TestInfo info) {
    p = "/t/" + info.getTestMethod().orElseThrow().getName() + "-" + System.nanoTime() + "/";
  }

  @Test
  void aScopeLargerThanGrpcsDefaultMessageLimitIsReadWhole() {
    // 6 values of 1 MiB (etcd takes at most 1.5 MiB per request): 6 MiB in one range response.
    String big = "x".repeat(1024 * 1024);
    for (int i = 0; i < 6; i++) {
      store.put(p + "members/m" + i, big, 0, T);
    }
    assertThat(store.readPrefix(p, T).kvs()).hasSize(6);
  }

  @Test
  void putIfAbsentCreatesOnlyWhenTheKeyIsAbsent() {
    assertThat(store.putIfAbsent(p + "leader", "node1", 0, T)).isTrue();
    assertThat(store.putIfAbsent(p + "leader", "node2", 0, T)).isFalse();
    assertThat(store.get(p + "leader", T).value()).isEqualTo("node1");
  }

  @Test
  void aLeasedKeyDisappearsWhenTheLeaseExpires() {
    Grant g = store.grantLease(Duration.ofSeconds(8), T);
    assertThat(g.ttl()).isEqualTo(Duration.ofSeconds(8));
    assertThat(store.putIfAbsent(p + "leader", "node1", g.leaseId(), T)).isTrue();
    assertThat(store.get(p + "leader", T).lease()).isEqualTo(g.leaseId());

    await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(200))
        .until(() -> store.get(p + "leader", T) == null);

    assertThatThrownBy(() -> store.keepAliveOnce(g.leaseId(), T)).isInstanceOf(LeaseLostException.class);
    assertThat(store.putIfAbsent(p + "leader", "node2", 0, T)).isTrue();
  }

  @Test
  void keepAliveRenewsALiveLeaseAndFailsOnARevokedOne() {
    Grant g = store.grantLease(Duration.ofSeconds(30), T);
    assertThat(store.keepAliveOnce(g.leaseId(), T)).isEqualTo(Duration.ofSeconds(30));
    store.put(p + "member", "{}", g.leaseId(), T);

    store.revokeLease(g.leaseId(), T);

    assertThat(store.get(p + "member", T)).isNull();
    assertThatThrownBy(() -> store.keepAliveOnce(g.leaseId(), T)).isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> store.putIfAbsent(p + "leader", "node1", g.leaseId(), T))
        .isInstanceOf(LeaseLostException.class);
    store.revokeLease(g.leaseId(), T); // revoking twice is not an error
  }

  @Test
  void makesNoVertxCacheDirectoryInTheTemporaryDirectory() throws IOException {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    List<Path> before = vertxCacheDirs(tmp);
    try (JetcdClusterStore s = JetcdClusterStore.connect(new EtcdConfig(etcd.endpoints(), null, null), null)) {
      s.put(p + "k", "v", 0, T);
      assertThat(s.readPrefix(p, T).kvs()).hasSize(1);
      // While the client lives: a directory deleted at close would still be left behind by a SIGKILL.
      assertThat(vertxCacheDirs(tmp)).as("vertx-cache directories in " + tmp).isSubsetOf(before);
    }
  }

  private static List<Path> vertxCacheDirs(Path tmp) throws IOException {
    try (Stream<Path> s = Files.list(tmp)) {
      return s.filter(f -> f.getFileName().toString().startsWith("vertx-cache-")).toList();
    }
  }

  @Test
  void renewalsShareOneKeepAliveStreamAndEachOneResetsTheTtl() {
    try (JetcdClusterStore s = JetcdClusterStore.connect(new EtcdConfig(etcd.endpoints(), null, null), null)) {
      Grant a = s.grantLease(Duration.ofSeconds(30), T);
      Grant b = s.grantLease(Duration.ofSeconds(20), T);
      for (int i = 0; i < 5; i++) {
        assertThat(s.keepAliveOnce(a.leaseId(), T)).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.keepAliveOnce(b.leaseId(), T)).isEqualTo(Duration.ofSeconds(20));
      }
      assertThat(s.keepAliveStreamsOpened()).isEqualTo(1);

      s.revokeLease(b.leaseId(), T);
      assertThatThrownBy(() -> s.keepAliveOnce(b.leaseId(), T)).isInstanceOf(LeaseLostException.class);
      assertThat(s.keepAliveOnce(a.leaseId(), T)).as("a lost lease does not break the stream for others")
          .isEqualTo(Duration.ofSeconds(30));
    }
  }

  @Test
  void putAllIfValueWritesNothingWhenTheGuardDiffers() {
    store.put(p + "leader", "node1", 0, T);
    Map<String, String> puts = Map.of(p + "topology", "{\"term\":2}", p + "history", "[]");

    assertThat(store.putAllIfValue(p + "leader", "node2", puts, T)).isFalse();
    assertThat(store.get(p + "topology", T)).isNull();
    assertThat(store.get(p + "history", T)).isNull();

    assertThat(store.putAllIfValue(p + "leader", "node1", puts, T)).isTrue();
    assertThat(store.get(p + "topology", T).value()).isEqualTo("{\"term\":2}");
    assertThat(store.get(p + "history", T).value()).isEqualTo("[]");
  }

  @Test
  void putAllIfValueWritesNothingWhenTheGuardKeyIsAbsent() {
    assertThat(store.putAllIfValue(p + "leader", "node1", Map.of(p + "topology", "{}"), T)).isFalse();
    assertThat(store.get(p + "topology", T)).isNull();
  }

  @Test
  void putIfValueRebindsTheKeyToANewLease() {
    Grant old = store.grantLease(Duration.ofSeconds(30), T);
    Grant fresh = store.grantLease(Duration.ofSeconds(30), T);
    store.putIfAbsent(p + "leader", "node1", old.leaseId(), T);

    assertThat(store.putIfValue(p + "leader", "node2", "node2", fresh.leaseId(), T)).isFalse();
    assertThat(store.putIfValue(p + "leader", "node1", "node1", fresh.leaseId(), T)).isTrue();

    RawKv kv = store.get(p + "leader", T);
    assertThat(kv.value()).isEqualTo("node1");
    assertThat(kv.lease()).isEqualTo(fresh.leaseId());
    store.revokeLease(old.leaseId(), T);
    store.revokeLease(fresh.leaseId(), T);
  }

  @Test
  void putIfModRevisionRejectsAStaleRevision() {
    assertThat(store.putIfModRevision(p + "config", "{\"ttl\":30}", 0, T)).isTrue(); // 0: must be absent
    long stale = store.get(p + "config", T).modRevision();
    store.put(p + "config", "{\"ttl\":20}", 0, T);

    assertThat(store.putIfModRevision(p + "config", "{\"ttl\":10}", stale, T)).isFalse();
    assertThat(store.get(p + "config", T).value()).isEqualTo("{\"ttl\":20}");
    assertThat(store.putIfModRevision(p + "config", "{\"ttl\":10}", 0, T)).isFalse();

    long current = store.get(p + "config", T).modRevision();
    assertThat(store.putIfModRevision(p + "config", "{\"ttl\":10}", current, T)).isTrue();
    assertThat(store.get(p + "config", T).value()).isEqualTo("{\"ttl\":10}");
  }

  @Test
  void deleteIfValueDeletesOnlyTheExpectedValue() {
    store.put(p + "leader", "node1", 0, T);

    assertThat(store.deleteIfValue(p + "leader", "node2", T)).isFalse();
    assertThat(store.get(p + "leader", T).value()).isEqualTo("node1");

    assertThat(store.deleteIfValue(p + "leader", "node1", T)).isTrue();
    assertThat(store.get(p + "leader", T)).isNull();
    assertThat(store.deleteIfValue(p + "leader", "node1", T)).isFalse();
  }

  @Test
  void readPrefixReadsOneScopeAtOneRevision() {
    store.put(p + "main/leader", "node1", 0, T);
    store.put(p + "main/members/node1", "{}", 0, T);
    store.put(p + "main2/leader", "other", 0, T);

    RawScope scope = store.readPrefix(p + "main/", T);

    assertThat(scope.kvs()).extracting(RawKv::key)
        .containsExactlyInAnyOrder(p + "main/leader", p + "main/members/node1");
    assertThat(scope.kvs()).extracting(RawKv::value).containsExactlyInAnyOrder("node1", "{}");
    long newest = scope.kvs().stream().mapToLong(RawKv::modRevision).max().orElseThrow();
    assertThat(scope.revision()).isGreaterThanOrEqualTo(newest);

    store.put(p + "main/leader", "node2", 0, T);
    RawScope later = store.readPrefix(p + "main/", T);
    assertThat(later.revision()).isGreaterThan(scope.revision());
    assertThat(store.readPrefix(p + "absent/", T).kvs()).isEmpty();
  }

  @Test
  void watchPrefixReportsADeletionUnderThePrefixOnly() throws Exception {
    store.put(p + "main/leader", "node1", 0, T);
    List<String> events = new CopyOnWriteArrayList<>();
    try (AutoCloseable w = store.watchPrefix(p + "main/", events::add)) {
      // The first null says the watch is established; changes after it must arrive.
      await().atMost(Duration.ofSeconds(20)).until(() -> events.contains(null));

      store.put(p + "main2/leader", "other", 0, T);
      store.delete(p + "main/leader", T);

      await().atMost(Duration.ofSeconds(20)).until(() -> events.contains(p + "main/leader"));
      assertThat(events).doesNotContain(p + "main2/leader");
    }

    int seen = events.size();
    store.put(p + "main/after-close", "x", 0, T);
    // A closed watch must stay silent; give a late event a chance to show up before checking.
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> events.size() == seen);
  }

  @Test
  void aStoppedEtcdFailsCallsWithinTheTimeoutAndTheWatchRecoversAfterRestart() throws Exception {
    Path single = dir.resolve("single-" + System.nanoTime());
    try (EtcdServer one = EtcdServer.start(single, 1);
        JetcdClusterStore s = JetcdClusterStore.connect(new EtcdConfig(one.endpoints(), null, null), null)) {
      Grant g = s.grantLease(Duration.ofSeconds(30), T);
      s.put(p + "leader", "node1", 0, T);
      List<String> events = new CopyOnWriteArrayList<>();
      try (AutoCloseable w = s.watchPrefix(p, events::add)) {
        await().atMost(Duration.ofSeconds(20)).until(() -> events.contains(null));

        one.stop();
        assertThat(one.pids()).isEmpty();

        Duration oneSecond = Duration.ofSeconds(1);
        assertUnavailableWithinBound(() -> s.get(p + "leader", oneSecond));
        assertUnavailableWithinBound(() -> s.readPrefix(p, oneSecond));
        assertUnavailableWithinBound(() -> s.putIfAbsent(p + "other", "node2", 0, oneSecond));
        assertUnavailableWithinBound(() -> s.keepAliveOnce(g.leaseId(), oneSecond));

        one.start();
        // The first renewal once etcd answers again: a renewal that finds gRPC waiting to reconnect makes it
        // reconnect and tries once more, rather than fail and leave a primary's lease to the next tick.
        assertThat(s.keepAliveOnce(g.leaseId(), T)).isEqualTo(Duration.ofSeconds(30));
        events.clear();
        AtomicInteger n = new AtomicInteger();
        // Each poll writes a new change; once the watch is back, one of them must be reported.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
            .untilAsserted(() -> {
              s.put(p + "leader", "node1-" + n.incrementAndGet(), 0, oneSecond);
              assertThat(events).contains(p + "leader");
            });
        assertThat(events).as("a re-established watch tells the caller to re-read").contains((String) null);
        assertThat(s.get(p + "leader", T).value()).startsWith("node1-");
        // The keep-alive stream broke with etcd; renewals work again without the caller doing anything.
        assertThat(s.keepAliveOnce(g.leaseId(), T)).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.keepAliveOnce(g.leaseId(), T)).isEqualTo(Duration.ofSeconds(30));
      }
    }
  }

  /**
   * A server that takes each connection and closes it at once stands in for an etcd gRPC cannot reach: every call
   * fails, and each connection made is counted. gRPC left alone waits 1 s, then 1.6 times longer each time, so
   * its 8th connection comes ~40 s after the first; each call that fails makes the store ask for the next
   * attempt at once, so calls every 300 ms make the 8 connections within a few seconds.
   */
  @Test
  void afterAFailedCallTheNextAttemptToReachEtcdIsMadeAtOnceNotAfterGrpcsBackoff() throws Exception {
    AtomicInteger connections = new AtomicInteger();
    try (java.net.ServerSocket server = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread acceptor = new Thread(() -> {
        while (!server.isClosed()) {
          try (java.net.Socket ignored = server.accept()) {
            connections.incrementAndGet();
          } catch (IOException e) {
            return;
          }
        }
      }, "closing-acceptor");
      acceptor.setDaemon(true);
      acceptor.start();
      String endpoint = "http://127.0.0.1:" + server.getLocalPort();
      try (JetcdClusterStore s = JetcdClusterStore.connect(new EtcdConfig(List.of(endpoint), null, null), null)) {
        assertThat(s.reconnectsAtOnce()).as("jetcd's channel reached (the pinned jetcd's layout)").isTrue();
        AtomicInteger calls = new AtomicInteger();
        await("8 connections, one after each failed call").atMost(Duration.ofSeconds(20))
            .pollInterval(Duration.ofMillis(300)).until(() -> {
              assertThatThrownBy(() -> s.get("/k", Duration.ofMillis(500))).isInstanceOf(EtcdUnavailableException.class);
              calls.incrementAndGet();
              return connections.get() >= 8;
            });
        System.out.println("closing server: " + connections.get() + " connections for " + calls.get() + " failed calls");
      }
    }
  }

  @Test
  void theStoreKeepsWorkingWithOneOfThreeMembersDown() {
    assertThat(etcd.pids()).hasSize(3);
    Grant g = store.grantLease(Duration.ofSeconds(60), T);
    assertThat(store.keepAliveOnce(g.leaseId(), T)).isEqualTo(Duration.ofSeconds(60));
    try {
      etcd.stopMember(0);
      assertThat(etcd.pids()).hasSize(2);

      // A call already routed to the dead member may fail once; later ones must reach the others.
      await().atMost(Duration.ofSeconds(30)).ignoreException(EtcdUnavailableException.class).until(() -> {
        store.put(p + "leader", "node1", 0, T);
        return store.readPrefix(p, T).kvs().size() == 1;
      });
      // So must lease renewals, whichever member the keep-alive stream was on.
      await().atMost(Duration.ofSeconds(30)).ignoreException(EtcdUnavailableException.class)
          .until(() -> store.keepAliveOnce(g.leaseId(), T).equals(Duration.ofSeconds(60)));
      for (int i = 0; i < 3; i++) {
        assertThat(store.keepAliveOnce(g.leaseId(), T)).isEqualTo(Duration.ofSeconds(60));
      }
      assertThat(store.putIfAbsent(p + "leader", "node2", 0, T)).isFalse();
    } finally {
      etcd.startMember(0);
    }
    assertThat(etcd.pids()).hasSize(3);
    assertThat(store.get(p + "leader", T).value()).isEqualTo("node1");
  }

  @Test
  void connectsWithUserAndPasswordWhenEtcdRequiresAuth() throws Exception {
    Path single = dir.resolve("auth-" + System.nanoTime());
    try (EtcdServer one = EtcdServer.start(single, 1)) {
      etcdctl(one, "user", "add", "root", "--new-user-password=s3cret");
      etcdctl(one, "auth", "enable");
      EtcdConfig right = new EtcdConfig(one.endpoints(), new Credentials("root", null, null, "UNUSED_ENV"), null);
      EtcdConfig wrong = new EtcdConfig(one.endpoints(), new Credentials("root", "nope", null, null), null);

      try (JetcdClusterStore s = JetcdClusterStore.connect(right, "s3cret")) {
        assertThat(s.putIfAbsent(p + "leader", "node1", 0, T)).isTrue();
        assertThat(s.get(p + "leader", T).value()).isEqualTo("node1");
        // The keep-alive stream carries jetcd's auth token too.
        Grant g = s.grantLease(Duration.ofSeconds(30), T);
        assertThat(s.keepAliveOnce(g.leaseId(), T)).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.keepAliveOnce(g.leaseId(), T)).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.keepAliveStreamsOpened()).isEqualTo(1);
      }
      try (JetcdClusterStore s = JetcdClusterStore.connect(wrong, null)) {
        // A wrong password is a configuration error, not an outage to wait out.
        assertThatThrownBy(() -> s.get(p + "leader", T))
            .isInstanceOf(PghaException.class)
            .isNotInstanceOf(EtcdUnavailableException.class);
      }
      assertThatThrownBy(() -> JetcdClusterStore.connect(right, null))
          .hasMessageContaining("no password resolved for user root");
    }
  }

  private static void etcdctl(EtcdServer server, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("etcdctl", "--endpoints", server.endpointsCsv()));
    cmd.addAll(List.of(args));
    Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(proc.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(proc.waitFor(30, TimeUnit.SECONDS)).as("etcdctl %s finished", cmd).isTrue();
    assertThat(proc.exitValue()).as("etcdctl %s: %s", cmd, out).isZero();
  }

  private static void assertUnavailableWithinBound(Runnable call) {
    long start = System.nanoTime();
    assertThatThrownBy(call::run).isInstanceOf(EtcdUnavailableException.class);
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    // A bound, not a speed goal: the point is that nothing waits for etcd to come back.
    assertThat(took).isLessThan(Duration.ofSeconds(10));
  }

  private static void deleteTree(Path root) throws IOException {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path f : walk.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
        Files.deleteIfExists(f);
      }
    }
  }
}
