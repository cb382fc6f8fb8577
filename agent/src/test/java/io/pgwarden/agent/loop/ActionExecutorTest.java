package io.pgwarden.agent.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.agent.port.FatalAgentException;
import io.pgwarden.agent.port.PostgresCommandException;
import io.pgwarden.agent.port.PostgresControl;
import io.pgwarden.agent.port.RawKv;
import io.pgwarden.agent.port.RawScope;
import io.pgwarden.agent.port.ReplicationSource;
import io.pgwarden.common.config.Keys;
import io.pgwarden.common.decide.Action;
import io.pgwarden.common.decide.Action.StartMode;
import io.pgwarden.common.decide.DemoteMode;
import io.pgwarden.common.lease.LeaseTracker;
import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.model.SynchronousMode;
import io.pgwarden.common.model.HistoryEntry;
import io.pgwarden.common.model.LocalPgState;
import io.pgwarden.common.model.Observation;
import io.pgwarden.common.model.Topology;
import io.pgwarden.common.testing.FakeClock;
import io.pgwarden.common.testing.Observations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The executor against hand-written fakes: what each action does, and the last-moment safety checks. */
class ActionExecutorTest {
  private static final Keys KEYS = new Keys("/pgwarden", "t");

  private final FakeClock clock = new FakeClock();
  private final LeaseTracker lease = new LeaseTracker(clock, Duration.ofSeconds(5));
  private final FakeStore store = new FakeStore();
  private final FakePostgres pg = new FakePostgres();
  private final AsyncActions async = new AsyncActions(() -> {});
  private final ActionExecutor executor = new ActionExecutor("n1", KEYS, store, pg, () -> LocalPgState.unknown("fake", false),
      lease, async, () -> Duration.ofSeconds(1), DynamicConfig.DEFAULTS, () -> {});

  private Observation withLeaderN2() {
    return Observations.node("n1").replicaRunning(1, "0/3000000").leaderKey("n2")
        .member(Observations.member("n2").primary(1, "0/5000000")).build();
  }

  private void validLease() {
    lease.renewed(42, lease.beginRenew(), Duration.ofSeconds(30));
  }

  @Test
  void everyActionTheDeciderCanProduceIsHandled() {
    validLease();
    Map<Class<?>, Action> samples = new HashMap<>();
    samples.put(Action.Bootstrap.class, new Action.Bootstrap("t"));
    samples.put(Action.AcquireLeaderKey.class, new Action.AcquireLeaderKey("t"));
    samples.put(Action.ReleaseLeaderKey.class, new Action.ReleaseLeaderKey("t"));
    samples.put(Action.Promote.class, new Action.Promote("t"));
    samples.put(Action.Demote.class, new Action.Demote(DemoteMode.FAST, false, "t"));
    samples.put(Action.StartPostgres.class, new Action.StartPostgres(StartMode.REPLICA, "n2", "t"));
    samples.put(Action.FollowLeader.class, new Action.FollowLeader("n2", "t"));
    samples.put(Action.Rewind.class, new Action.Rewind("n2", "t"));
    samples.put(Action.Rebuild.class, new Action.Rebuild("n2", "t"));
    samples.put(Action.WriteTopology.class, new Action.WriteTopology(new Topology(2, "n1", 2, List.of()), null));
    samples.put(Action.EnsureSlots.class, new Action.EnsureSlots(Set.of("n2")));
    samples.put(Action.MakeSlots.class, new Action.MakeSlots(Set.of("n2"), "t"));
    samples.put(Action.Reload.class, new Action.Reload("t"));
    samples.put(Action.SetSyncStandbys.class, new Action.SetSyncStandbys(List.of("n2"), 1, "t"));
    samples.put(Action.ClearSwitchover.class, new Action.ClearSwitchover("t"));
    samples.put(Action.Halt.class, new Action.Halt("t"));
    assertThat(samples.keySet()).containsExactlyInAnyOrderElementsOf(Arrays.asList(Action.class.getPermittedSubclasses()));
    store.leader = "n1";
    for (Action a : samples.values()) {
      if (a instanceof Action.Halt) {
        assertThatThrownBy(() -> executor.apply(List.of(a), withLeaderN2())).isInstanceOf(FatalAgentException.class);
      } else {
        // Must not end in "unhandled action": whatever else it does with the fakes.
        try {
          executor.apply(List.of(a), withLeaderN2());
        } catch (IllegalStateException e) {
          assertThat(e.getMessage()).doesNotContain("unhandled");
        } catch (RuntimeException ignored) {
          // a fake refusing is fine here
        }
      }
    }
  }

  @Test
  void promoteIsRefusedWithoutAValidLease() {
    assertThatThrownBy(() -> executor.apply(List.of(new Action.Promote("t")), withLeaderN2()))
        .hasMessageContaining("lease is not valid");
    assertThat(pg.calls).doesNotContain("promote");
  }

  @Test
  void aLeaseThatRunsOutDuringPromoteStopsPostgresImmediately() {
    validLease();
    pg.onPromote = x -> clock.advance(Duration.ofSeconds(60));
    assertThatThrownBy(() -> executor.apply(List.of(new Action.Promote("t")), withLeaderN2()))
        .hasMessageContaining("lost the lease while promoting");
    assertThat(pg.calls).containsExactly("promote", "stop IMMEDIATE");
  }

  @Test
  void inSynchronousModeAPromotionHoldsCommitsUntilTheNewTopologyIsRecorded() {
    validLease();
    Observation sync = Observations.node("n1").replicaRunning(1, "0/3000000").leaderKey("n2")
        .member(Observations.member("n2").primary(1, "0/5000000")).synchronousMode(SynchronousMode.ON).build();
    executor.apply(List.of(new Action.Promote("t")), sync);
    assertThat(pg.calls).containsExactly("promote holding commits");
    assertThat(pg.holdOnPromote).as("replica files rendered for it").isTrue();
  }

  @Test
  void slotsThatCannotBeMadeDoNotStopThePromotion() {
    validLease();
    pg.makeSlotsFails = new IllegalStateException("disk full");
    executor.apply(List.of(new Action.MakeSlots(Set.of("n3", "n2"), "t"), new Action.AcquireLeaderKey("t"),
        new Action.Promote("t")), withLeaderN2());
    assertThat(pg.calls).containsExactly("makeSlots [n2, n3]", "promote");
    assertThat(store.leader).isEqualTo("n1");
  }

  @Test
  void acquireFailsWhenAnotherMemberHoldsTheKey() {
    validLease();
    store.leader = "n2";
    assertThatThrownBy(() -> executor.apply(List.of(new Action.AcquireLeaderKey("t")), withLeaderN2()))
        .hasMessageContaining("held by another member");
    assertThat(store.leader).isEqualTo("n2");
  }

  @Test
  void acquireCreatesTheKeyOnOurLeaseAndStopsAtTheFirstFailure() {
    validLease();
    executor.apply(List.of(new Action.AcquireLeaderKey("t"), new Action.Promote("t")), withLeaderN2());
    assertThat(store.leader).isEqualTo("n1");
    assertThat(store.leaderLease).isEqualTo(42);
    assertThat(pg.calls).containsExactly("promote");

    store.leader = "n9";
    pg.calls.clear();
    assertThatThrownBy(() -> executor.apply(List.of(new Action.AcquireLeaderKey("t"), new Action.Promote("t")),
        withLeaderN2())).isInstanceOf(ActionExecutor.ActionFailedException.class);
    assertThat(pg.calls).as("nothing after the failed acquire").isEmpty();
  }

  @Test
  void topologyIsWrittenOnlyWhileTheKeyNamesUs() {
    validLease();
    store.leader = "n2";
    Action write = new Action.WriteTopology(new Topology(3, "n1", 2, List.of()),
        new HistoryEntry(3, "failover", "n2", "n1", 2, null, null, "t"));
    assertThatThrownBy(() -> executor.apply(List.of(write), withLeaderN2())).hasMessageContaining("no longer names me");
    assertThat(store.values).doesNotContainKey(KEYS.topology());
    store.leader = "n1";
    executor.apply(List.of(write), withLeaderN2());
    assertThat(store.values.get(KEYS.topology())).contains("\"term\":3");
    assertThat(store.values.get(KEYS.history())).contains("\"kind\":\"failover\"").contains("\"at\":");
  }

  @Test
  void anUnparsableHistoryIsLeftAsItIsNotReplacedByTheNewEntry() {
    validLease();
    store.leader = "n1";
    Observation obs = Observations.node("n1").replicaRunning(1, "0/3000000").leaderKey("n2")
        .member(Observations.member("n2").primary(1, "0/5000000"))
        .parseError(KEYS.history() + ": not valid JSON (line 1, column 2)").build();
    executor.apply(List.of(new Action.WriteTopology(new Topology(3, "n1", 2, List.of()),
        new HistoryEntry(3, "failover", "n2", "n1", 2, null, null, "t"))), obs);
    assertThat(store.values.get(KEYS.topology())).contains("\"term\":3");
    assertThat(store.values).doesNotContainKey(KEYS.history());
  }

  @Test
  void demoteWithReleaseStopsFirstThenDeletesOnlyOurKey() {
    store.leader = "n1";
    executor.apply(List.of(new Action.Demote(DemoteMode.IMMEDIATE, true, "t")), withLeaderN2());
    assertThat(pg.calls).containsExactly("stop IMMEDIATE");
    assertThat(store.leader).isNull();
  }

  @Test
  void rebuildRunsOffTheLoopThreadAndStartsAsReplicaOfTheSource() {
    validLease();
    executor.apply(List.of(new Action.Rebuild("n2", "t")), withLeaderN2());
    await().atMost(Duration.ofSeconds(10)).until(() -> async.current() == null && pg.calls.contains("start REPLICA n2"));
    assertThat(pg.calls).containsSubsequence("baseBackup n2", "start REPLICA n2");
  }

  @Test
  void aFailedBootstrapReleasesItsClaimAndALaterTickTriesAgain() {
    validLease();
    pg.onInitdb = () -> {
      throw new PostgresCommandException("initdb", 1, "initdb: error: must specify a password for the superuser");
    };
    Observation obs = Observations.node("n1").noData().build();
    Action bootstrap = new Action.Bootstrap("no /initialize key");
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    Logger logger = (Logger) LoggerFactory.getLogger(ActionExecutor.class);
    logged.start();
    logger.addAppender(logged);
    try {
      executor.apply(List.of(bootstrap), obs);
      await().atMost(Duration.ofSeconds(10)).until(() -> async.current() == null);
      assertThat(store.values).doesNotContainKey(KEYS.initialize());

      // The next tick comes while that failure is backed off: a claim now would have nothing to release it.
      executor.apply(List.of(bootstrap), obs);
      assertThat(store.values).as("no claim left bound to my live lease").doesNotContainKey(KEYS.initialize());

      await().atMost(Duration.ofSeconds(10)).until(() -> {
        executor.apply(List.of(bootstrap), obs);
        return pg.calls.stream().filter("initdb"::equals).count() == 2;
      });
      await().atMost(Duration.ofSeconds(10)).until(() -> async.current() == null);
      assertThat(store.values).doesNotContainKey(KEYS.initialize());
    } finally {
      logger.detachAppender(logged);
    }
    assertThat(logged.list.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.startsWith("bootstrap failed")))
        .containsExactly(
            "bootstrap failed: initdb failed with exit code 1: initdb: error: must specify a password for the superuser; retrying",
            "bootstrap failed: initdb failed with exit code 1: initdb: error: must specify a password for the superuser; retrying");
  }

  @Test
  void aFailedBootstrapNeverReleasesAnotherNodesClaim() {
    validLease();
    pg.onInitdb = () -> {
      // My lease ran out during initdb, and another node claimed /initialize on its own.
      store.values.put(KEYS.initialize(), "");
      store.leases.put(KEYS.initialize(), 99L);
      throw new PostgresCommandException("initdb", 1, "out of disk");
    };
    executor.apply(List.of(new Action.Bootstrap("t")), Observations.node("n1").noData().build());
    await().atMost(Duration.ofSeconds(10)).until(() -> async.current() == null);
    assertThat(store.leases).containsEntry(KEYS.initialize(), 99L);
  }

  @Test
  void theObservedDynamicParametersReachPostgresBeforeAnyAction() {
    Observation obs = Observations.node("n1").replicaRunning(1, "0/3000000")
        .parameters(Map.of("work_mem", "8MB")).appliedParameters(Map.of()).build();
    executor.apply(List.of(new Action.Reload("dynamic parameters changed")), obs);
    assertThat(pg.calls).containsExactly("reload {work_mem=8MB}");
    assertThat(pg.hosts).containsExactlyInAnyOrder("127.0.0.1", "::1");
  }

  // ---- fakes ----

  static final class FakePostgres implements PostgresControl {
    final List<String> calls = java.util.Collections.synchronizedList(new ArrayList<>());
    Consumer<Void> onPromote = x -> {};
    Runnable onInitdb = () -> {};

    @Override public void initdb() { calls.add("initdb"); onInitdb.run(); }
    @Override public void start(StartMode mode, ReplicationSource upstream) {
      calls.add("start " + mode + (upstream == null ? "" : " " + upstream.name()));
    }
    @Override public void stop(DemoteMode mode) { calls.add("stop " + mode); }
    RuntimeException makeSlotsFails;
    @Override public void makeSlots(Set<String> slots) {
      calls.add("makeSlots " + new java.util.TreeSet<>(slots));
      if (makeSlotsFails != null) {
        throw makeSlotsFails;
      }
    }
    @Override public void promote(boolean holdCommits) {
      calls.add(holdCommits ? "promote holding commits" : "promote");
      onPromote.accept(null);
    }
    @Override public void follow(ReplicationSource upstream) { calls.add("follow " + upstream.name()); }
    @Override public void rewind(ReplicationSource source) { calls.add("rewind " + source.name()); }
    @Override public void baseBackup(ReplicationSource source) { calls.add("baseBackup " + source.name()); }
    @Override public void holdCommitsWhenPromoted(boolean hold) { holdOnPromote = hold; }
    @Override public void reload() { calls.add("reload " + dynamic); }
    volatile Map<String, String> dynamic = Map.of();
    @Override public void useDynamicParameters(Map<String, String> parameters) { dynamic = parameters; }
    boolean holdOnPromote;
    volatile Set<String> hosts = Set.of();
    @Override public void useReplicationHosts(Set<String> h) { hosts = h; }
    @Override public void setSynchronousStandbys(List<String> names, int count) { calls.add("sync " + names); }
    @Override public void ensureReplicationRole() { calls.add("role"); }
    @Override public void ensureSlots(Set<String> slots) { calls.add("slots " + slots); }
  }

  /** Just enough etcd: one leader key with its lease, and plain values (with theirs). */
  static final class FakeStore implements ClusterStore {
    final Map<String, String> values = new java.util.concurrent.ConcurrentHashMap<>();
    final Map<String, Long> leases = new java.util.concurrent.ConcurrentHashMap<>();
    String leader;
    long leaderLease;

    @Override public Grant grantLease(Duration ttl, Duration timeout) { return new Grant(42, ttl); }
    @Override public Duration keepAliveOnce(long leaseId, Duration timeout) { return Duration.ofSeconds(30); }
    @Override public void revokeLease(long leaseId, Duration timeout) {}
    @Override public RawScope readPrefix(String prefix, Duration timeout) { return new RawScope(1, List.of()); }
    @Override
    public RawKv get(String key, Duration timeout) {
      String v = values.get(key);
      return v == null ? null : new RawKv(key, v, 1, 1, 1, leases.getOrDefault(key, 0L));
    }

    @Override public void put(String key, String value, long leaseId, Duration timeout) { values.put(key, value); }

    @Override
    public boolean putIfAbsent(String key, String value, long leaseId, Duration timeout) {
      if (key.equals(KEYS.leader())) {
        if (leader != null) {
          return false;
        }
        leader = value;
        leaderLease = leaseId;
        return true;
      }
      if (values.putIfAbsent(key, value) != null) {
        return false;
      }
      leases.put(key, leaseId);
      return true;
    }

    @Override
    public boolean putAllIfValue(String guardKey, String guardValue, Map<String, String> puts, Duration timeout) {
      if (!guardValue.equals(leader)) {
        return false;
      }
      values.putAll(puts);
      return true;
    }

    @Override
    public boolean putIfValue(String key, String expected, String newValue, long leaseId, Duration timeout) {
      if (key.equals(KEYS.leader()) && expected.equals(leader)) {
        leader = newValue;
        leaderLease = leaseId;
        return true;
      }
      return false;
    }

    @Override public boolean putIfModRevision(String key, String value, long modRevision, Duration timeout) { return false; }

    @Override
    public boolean deleteIfValue(String key, String expected, Duration timeout) {
      if (key.equals(KEYS.leader()) && expected.equals(leader)) {
        leader = null;
        return true;
      }
      if (!key.equals(KEYS.leader()) && values.remove(key, expected)) {
        leases.remove(key);
        return true;
      }
      return false;
    }

    @Override public void delete(String key, Duration timeout) { values.remove(key); }

    @Override public long deletePrefix(String prefix, Duration timeout) { throw new UnsupportedOperationException(); }
    @Override public AutoCloseable watchPrefix(String prefix, ScopeListener listener) { return () -> {}; }
    @Override public void close() {}
  }
}
