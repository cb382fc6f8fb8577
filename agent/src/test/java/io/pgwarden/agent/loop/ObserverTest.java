package io.pgwarden.agent.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.agent.port.EtcdUnavailableException;
import io.pgwarden.agent.port.RawKv;
import io.pgwarden.agent.port.RawScope;
import io.pgwarden.common.config.Keys;
import io.pgwarden.common.decide.Decider;
import io.pgwarden.common.decide.DecisionPolicy;
import io.pgwarden.common.json.Json;
import io.pgwarden.common.lease.LeaseTracker;
import io.pgwarden.common.model.DataDirState;
import io.pgwarden.common.model.ControlState;
import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.model.InFlight;
import io.pgwarden.common.model.LocalPgState;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Observation;
import io.pgwarden.common.model.Role;
import io.pgwarden.common.model.StandbyOnItsWay;
import io.pgwarden.common.model.Tags;
import io.pgwarden.common.model.Topology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * When the Observer renews its lease: a steady follower every other tick, everyone else every tick
 * (defaults: ttl 10, retry_timeout 4, loop_wait 2, so a lease is locally valid for 6 s after a renewal).
 */
class ObserverTest {
  private static final Keys KEYS = new Keys("/pgwarden", "t");
  private static final long SECOND = 1_000_000_000L;

  private final AtomicLong now = new AtomicLong(100 * SECOND);
  private final List<Long> renewals = new ArrayList<>();
  private String leader = "node1";
  private long leaderLease = 9;
  private boolean primary;
  private final LeaseTracker lease = new LeaseTracker(now::get, Duration.ofSeconds(4));
  private final WakeupSignal wakeup = new WakeupSignal();
  private final AsyncActions async = new AsyncActions(wakeup::signal);
  private Runnable duringRead = () -> {};
  private RuntimeException keepAliveFailure;
  private final List<Duration> keepAliveTimeouts = new ArrayList<>();
  private final List<Duration> grantedTtls = new ArrayList<>();
  private long nextLeaseId = 7;
  private Duration keptTtl = Duration.ofSeconds(10);
  /** Keys the store returns besides the leader key. */
  private final List<RawKv> others = new ArrayList<>();
  private final Observer observer = new Observer("node2", Tags.NONE, KEYS, new Store(), () -> local(primary), lease,
      async, now::get, DynamicConfig.DEFAULTS, new OperatorRequests(wakeup));

  private static LocalPgState local(boolean primary) {
    return new LocalPgState(DataDirState.VALID, true, !primary, ControlState.UNKNOWN, "1", 1L, null, null, !primary,
        null, null, null, true, null);
  }

  /** One tick, then loop_wait. Returns whether it renewed (or granted). */
  private boolean tick() {
    int before = renewals.size();
    assertThat(observer.observe().lease().valid()).as("lease valid after the tick").isTrue();
    now.addAndGet(2 * SECOND);
    return renewals.size() > before;
  }

  @Test
  void aSteadyFollowerRenewsEveryOtherTick() {
    List<Boolean> renewed = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      renewed.add(tick());
    }
    assertThat(renewed).containsExactly(true, false, true, false, true, false, true, false);
  }

  @Test
  void aFollowerThatSeesTheLeaderKeyGoRenewsBeforeDeciding() {
    tick();
    leader = null;
    assertThat(tick()).as("renewed in the tick that first saw no leader").isTrue();
    assertThat(tick()).isTrue();
    assertThat(lease.remaining()).isGreaterThan(Duration.ofSeconds(3));
  }

  @Test
  void theLeaderAndAPrimaryRenewOnEveryTick() {
    leader = "node2";
    for (int i = 0; i < 4; i++) {
      assertThat(tick()).isTrue();
    }
    leader = "node1";
    primary = true;
    for (int i = 0; i < 4; i++) {
      assertThat(tick()).isTrue();
    }
  }

  @Test
  void aPrimaryWhoseLeaseRanOutGetsOneShortRenewalNotRetryTimeout() {
    leader = "node2";
    primary = true;
    assertThat(tick()).isTrue();
    keepAliveFailure = new EtcdUnavailableException("etcd did not answer", null);
    now.addAndGet(5 * SECOND); // 7 s after the renewal: past its 6 s of local validity
    Observation o = observer.observe();
    assertThat(o.lease().valid()).isFalse();
    assertThat(o.cluster().reachable()).isFalse();
    assertThat(keepAliveTimeouts).last().isEqualTo(Duration.ofMillis(500));
  }

  @Test
  void aReplicaWhoseLeaseRanOutStillWaitsRetryTimeout() {
    assertThat(tick()).isTrue();
    keepAliveFailure = new EtcdUnavailableException("etcd did not answer", null);
    now.addAndGet(6 * SECOND);
    assertThat(observer.observe().lease().valid()).isFalse();
    assertThat(keepAliveTimeouts).last().isEqualTo(Duration.ofSeconds(4));
  }

  @Test
  void anActionThatFinishesWhileTheTickReadsEtcdStillCountsAsInFlight() {
    CountDownLatch release = new CountDownLatch(1);
    InFlight bootstrap = new InFlight(InFlight.Kind.BOOTSTRAP, "node2");
    assertThat(async.submit(bootstrap, () -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    })).isTrue();
    duringRead = () -> {
      release.countDown();
      await("the action finished").atMost(Duration.ofSeconds(30)).until(() -> async.current() == null);
    };
    // The view was read after the action ended, the in-flight state before: the tick must wait, not act on
    // the action's result (e.g. a bootstrapped primary) with a view that may predate it.
    assertThat(observer.observe().inFlight()).isEqualTo(bootstrap);
    duringRead = () -> {};
    assertThat(observer.observe().inFlight()).isNull();
  }

  @Test
  void aMemberKeyWithoutALeaseIsReportedOnceWhileItStaysAndAgainWhenItReturns() {
    List<String> warnings = warningsDuring(() -> {
      others.add(memberKey("node1", 9));
      others.add(memberKey("x", 0));
      for (int i = 0; i < 3; i++) {
        tick();
      }
      others.remove(1);
      tick();
      others.add(memberKey("x", 0));
      tick();
      tick();
    });
    assertThat(warnings).hasSize(2).allSatisfy(w -> assertThat(w).startsWith(
        "ignoring member key /pgwarden/t/members/x: not bound to a lease, so not written by a live agent"));
  }

  @Test
  void anUnparsableKeyIsReportedOnceWhileItStays() {
    List<String> warnings = warningsDuring(() -> {
      others.add(new RawKv(KEYS.member("bad"), "{not json", 4, 4, 1, 9));
      for (int i = 0; i < 3; i++) {
        tick();
      }
    });
    assertThat(warnings).hasSize(1).allSatisfy(w -> assertThat(w).startsWith(
        "unparsable cluster data (no promotion while it lasts): /pgwarden/t/members/bad"));
  }

  /**
   * The Observer feeds StandbyWays (which StandbyWaysTest covers) on every tick as the holder: the Decider
   * then hurries (every 500 ms, not loop_wait) in the first 30 s of a member's way, and a new member
   * beside a stuck one starts another 30 s.
   */
  @Test
  void theHolderHurriesForAMemberOnItsWayOnlyInItsFirst30Seconds() {
    becomeHolder();
    replica("node3", false);
    Decider decider = new Decider(DecisionPolicy.DEFAULT);

    Observation first = observer.observe();
    assertThat(first.standbysOnTheirWay())
        .containsExactly(new StandbyOnItsWay("node3", List.of("not streaming from me"), Duration.ZERO));
    assertThat(decider.decide(first).requeueAfter()).isEqualTo(Duration.ofMillis(500));
    now.addAndGet(29 * SECOND);
    assertThat(decider.decide(observer.observe()).requeueAfter()).isEqualTo(Duration.ofMillis(500));
    now.addAndGet(SECOND);
    Observation stuck = observer.observe();
    assertThat(stuck.standbysOnTheirWay())
        .containsExactly(new StandbyOnItsWay("node3", List.of("not streaming from me"), Duration.ofSeconds(30)));
    assertThat(decider.decide(stuck).requeueAfter()).isEqualTo(Duration.ofSeconds(DynamicConfig.DEFAULT_LOOP_WAIT));

    replica("node4", false); // a new member joins beside the stuck one
    now.addAndGet(SECOND);
    assertThat(ages(observer.observe())).containsOnlyKeys("node3", "node4").containsEntry("node4", Duration.ZERO);
    assertThat(decider.decide(observer.observe()).requeueAfter()).isEqualTo(Duration.ofMillis(500));
  }

  /**
   * Ways are timed per tenure as holder: after a switchover there and back within minutes, the holder
   * hurries again for the standby it had timed in its previous tenure.
   */
  @Test
  void aHolderThatGetsTheKeyBackTimesItsStandbysAnew() {
    becomeHolder();
    replica("node3", false);
    Decider decider = new Decider(DecisionPolicy.DEFAULT);
    observer.observe();
    now.addAndGet(40 * SECOND);
    assertThat(decider.decide(observer.observe()).requeueAfter()).as("past its 30 s").isEqualTo(Duration.ofSeconds(2));

    leader = "node3"; // a switchover to node3 ...
    leaderLease = 8;
    now.addAndGet(2 * SECOND);
    assertThat(observer.observe().standbysOnTheirWay()).isEmpty();
    leader = "node2"; // ... and back a minute later, node3 not yet streaming from node2
    leaderLease = 7;
    now.addAndGet(60 * SECOND);
    Observation back = observer.observe();
    assertThat(ages(back)).containsExactly(Map.entry("node3", Duration.ZERO));
    assertThat(decider.decide(back).requeueAfter()).isEqualTo(Duration.ofMillis(500));
  }

  /**
   * A lease keeps the ttl it was granted with: after set-config ttl=20 the leader's keys move to a new lease
   * of 20 s, and until the leader key is seen on it, the old lease (renewed no more) bounds the deadline.
   */
  @Test
  void aChangedTtlMovesTheKeysToANewLeaseBoundedByTheOldOneUntilTheLeaderKeyMoved() {
    becomeHolder();
    tick(); // granted lease 7 at 100 s for 10 s: valid until 106 s (retry_timeout 4)
    others.add(new RawKv(KEYS.config(), "{\"ttl\":20}", 6, 6, 1, 0));
    tick(); // renews 7 at 102 s, then reads the new ttl
    assertThat(grantedTtls).containsExactly(Duration.ofSeconds(10));

    Observation moving = observer.observe(); // 104 s: lease 8 of 20 s, the leader key still on 7
    assertThat(grantedTtls).containsExactly(Duration.ofSeconds(10), Duration.ofSeconds(20));
    assertThat(moving.lease().leaseId()).isEqualTo(8);
    assertThat(lease.movingKeys()).isTrue();
    assertThat(moving.lease().remaining()).as("lease 7's deadline, 102 + 10 - 4").isEqualTo(Duration.ofSeconds(4));

    leaderLease = 8; // the loop's rebind moved the leader key
    keptTtl = Duration.ofSeconds(20);
    now.addAndGet(SECOND);
    Observation moved = observer.observe(); // 105 s: renews 8
    assertThat(lease.movingKeys()).isFalse();
    assertThat(moved.lease().remaining()).as("lease 8's own, 105 + 20 - 4").isEqualTo(Duration.ofSeconds(16));
    assertThat(grantedTtls).hasSize(2);
  }

  @Test
  void aReplicaMovesToANewLeaseAtOnceItHoldsNoLeaderKey() {
    tick();
    others.add(new RawKv(KEYS.config(), "{\"ttl\":20}", 6, 6, 1, 0));
    tick(); // reads the ttl (and renews, on a new lease, once the renewal policy asks for one)
    Observation moved = observer.observe(); // 104 s
    assertThat(grantedTtls).containsExactly(Duration.ofSeconds(10), Duration.ofSeconds(20));
    assertThat(lease.movingKeys()).isFalse();
    assertThat(moved.lease().leaseId()).isEqualTo(8);
    assertThat(moved.lease().remaining()).as("not bounded by lease 7's 106 s").isGreaterThan(Duration.ofSeconds(10));
  }

  /** How long the observer has timed each standby's way, by name. */
  private static Map<String, Duration> ages(Observation o) {
    Map<String, Duration> out = new java.util.TreeMap<>();
    o.standbysOnTheirWay().forEach(s -> out.put(s.member(), s.onItsWayFor()));
    return out;
  }

  /** node2 holds the key as the recorded primary, no synchronous standby recorded. */
  private void becomeHolder() {
    leader = "node2";
    leaderLease = 7;
    primary = true;
    others.add(new RawKv(KEYS.topology(), Json.write(new Topology(1, "node2", 1, List.of())), 4, 4, 1, 0));
  }

  /** Replaces member {@code name}'s key: a running replica, streaming or not. */
  private void replica(String name, boolean streaming) {
    others.removeIf(kv -> kv.key().equals(KEYS.member(name)));
    others.add(replicaKey(name, streaming));
  }

  private static RawKv replicaKey(String name, boolean streaming) {
    MemberStatus s = new MemberStatus(name, Role.REPLICA, "running", 1L, null, null, streaming, null, null, null,
        null, Tags.NONE, "dev", null);
    return new RawKv(KEYS.member(name), Json.write(s), 4, 4, 1, 9);
  }

  /** The WARN lines the Observer logs while {@code ticks} runs. */
  private static List<String> warningsDuring(Runnable ticks) {
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    Logger logger = (Logger) LoggerFactory.getLogger(Observer.class);
    logged.start();
    logger.addAppender(logged);
    try {
      ticks.run();
    } finally {
      logger.detachAppender(logged);
    }
    return logged.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  private static RawKv memberKey(String name, long lease) {
    MemberStatus s = new MemberStatus(name, Role.REPLICA, "running", 1L, null, null, true, null, null, null, null,
        Tags.NONE, "dev", null);
    return new RawKv(KEYS.member(name), Json.write(s), 4, 4, 1, lease);
  }

  /** A leader key and nothing else; counts renewals. */
  private final class Store implements ClusterStore {
    @Override public Grant grantLease(Duration ttl, Duration timeout) {
      renewals.add(now.get());
      grantedTtls.add(ttl);
      return new Grant(nextLeaseId++, ttl);
    }

    @Override public Duration keepAliveOnce(long leaseId, Duration timeout) {
      keepAliveTimeouts.add(timeout);
      if (keepAliveFailure != null) {
        throw keepAliveFailure;
      }
      renewals.add(now.get());
      return keptTtl;
    }

    @Override public RawScope readPrefix(String prefix, Duration timeout) {
      duringRead.run();
      List<RawKv> kvs = new ArrayList<>(others);
      if (leader != null) {
        kvs.add(new RawKv(KEYS.leader(), leader, 3, 3, 1, leaderLease));
      }
      return new RawScope(5, kvs);
    }

    @Override public void revokeLease(long leaseId, Duration timeout) {}
    @Override public RawKv get(String key, Duration timeout) { return null; }
    @Override public void put(String key, String value, long leaseId, Duration timeout) {}
    @Override public boolean putIfAbsent(String key, String value, long leaseId, Duration timeout) { return false; }
    @Override public boolean putAllIfValue(String g, String v, Map<String, String> puts, Duration t) { return false; }
    @Override public boolean putIfValue(String k, String e, String n, long leaseId, Duration t) { return false; }
    @Override public boolean putIfModRevision(String key, String value, long rev, Duration timeout) { return false; }
    @Override public boolean deleteIfValue(String key, String expected, Duration timeout) { return false; }
    @Override public void delete(String key, Duration timeout) {}
    @Override public long deletePrefix(String prefix, Duration timeout) { throw new UnsupportedOperationException(); }
    @Override public AutoCloseable watchPrefix(String prefix, ScopeListener listener) { return () -> {}; }
    @Override public void close() {}
  }
}
