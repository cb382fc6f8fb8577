package io.pgwarden.agent.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.agent.port.EtcdUnavailableException;
import io.pgwarden.agent.port.RawKv;
import io.pgwarden.agent.port.RawScope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The cache's bookkeeping against a scripted range read; the real etcd is in WatchedScopeIT. */
class WatchedScopeTest {
  private static final Duration T = Duration.ofSeconds(1);

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final List<WatchedScope.KeyChange> wakeups = new ArrayList<>();
  private final List<RawScope> reads = new ArrayList<>();
  private Runnable duringRead = () -> {};
  private int rangeReads;
  private final Function<Duration, RawScope> rangeRead = t -> {
    rangeReads++;
    duringRead.run();
    if (reads.isEmpty()) {
      throw new EtcdUnavailableException("etcd read /s/ timed out", null);
    }
    return reads.remove(0);
  };
  private final AtomicLong ownWrite = new AtomicLong();
  private final AtomicLong uncertain = new AtomicLong();
  private final WatchedScope scope =
      new WatchedScope(rangeRead, "/s/", now::get, wakeups::add, ownWrite::get, uncertain::get);

  private static RawKv kv(String key, String value, long rev) {
    return new RawKv(key, value, rev, rev, 1, 0);
  }

  private static RawScope scope(long rev, RawKv... kvs) {
    return new RawScope(rev, List.of(kvs));
  }

  @Test
  void withoutAWatchEveryReadIsARangeRead() {
    reads.add(scope(5, kv("/s/leader", "a", 5)));
    reads.add(scope(6, kv("/s/leader", "b", 6)));

    assertThat(scope.read(T).kvs()).extracting(RawKv::value).containsExactly("a");
    assertThat(scope.read(T).kvs()).extracting(RawKv::value).containsExactly("b");
    assertThat(rangeReads).isEqualTo(2);
    assertThat(scope.synced()).isFalse();
  }

  @Test
  void aReadCoveredByTheWatchIsKeptAndChangesAreAppliedToIt() {
    scope.started(10);
    reads.add(scope(12, kv("/s/leader", "a", 11), kv("/s/members/a", "{}", 12)));
    scope.read(T);
    assertThat(scope.synced()).isTrue();

    // A change the read already had (watch delivers from 11 on) is not applied twice; later ones are.
    scope.changed(List.of(kv("/s/leader", "a", 11)), List.of(), 11);
    scope.changed(List.of(kv("/s/members/b", "{}", 13)), List.of("/s/leader"), 13);
    RawScope s = scope.read(T);

    assertThat(rangeReads).isEqualTo(1);
    assertThat(s.revision()).isEqualTo(13);
    assertThat(s.kvs()).extracting(RawKv::key).containsExactly("/s/members/a", "/s/members/b");
    assertThat(wakeups).extracting(WatchedScope.KeyChange::key)
        .containsExactly(null, "/s/leader", "/s/members/b", "/s/leader");
  }

  @Test
  void onlyAMembersStatusRewriteLetsTheLoopSleep() {
    assertThat(new WatchedScope.KeyChange("/s/members/b", false).wakesLoop("/s/members/")).isFalse();
    assertThat(new WatchedScope.KeyChange("/s/members/b", true).wakesLoop("/s/members/")).as("joined or left")
        .isTrue();
    assertThat(new WatchedScope.KeyChange("/s/leader", false).wakesLoop("/s/members/")).isTrue();
    assertThat(new WatchedScope.KeyChange("/s/leader", true).wakesLoop("/s/members/")).isTrue();
    assertThat(new WatchedScope.KeyChange(null, true).wakesLoop("/s/members/")).as("watch restarted").isTrue();
  }

  @Test
  void tellsAKeyCreatedOrDeletedFromOneRewritten() {
    scope.started(10);
    reads.add(scope(10));
    scope.read(T);
    wakeups.clear();

    scope.changed(List.of(new RawKv("/s/members/b", "{}", 11, 11, 1, 7)), List.of(), 11);
    scope.changed(List.of(new RawKv("/s/members/b", "{\"x\":1}", 12, 11, 2, 7)), List.of(), 12);
    scope.changed(List.of(), List.of("/s/members/b"), 13);
    scope.broken();

    assertThat(wakeups).containsExactly(new WatchedScope.KeyChange("/s/members/b", true),
        new WatchedScope.KeyChange("/s/members/b", false), new WatchedScope.KeyChange("/s/members/b", true),
        new WatchedScope.KeyChange(null, true));
  }

  @Test
  void allChangesOfOneTransactionApply() {
    scope.started(1);
    reads.add(scope(1));
    scope.read(T);

    scope.changed(List.of(kv("/s/topology", "t", 2), kv("/s/history", "h", 2)), List.of(), 2);

    assertThat(scope.cachedValues()).isEqualTo(Map.of("/s/topology", "t", "/s/history", "h"));
  }

  @Test
  void aReadOlderThanTheWatchIsUsedOnceButNotKept() {
    scope.started(20);
    reads.add(scope(19, kv("/s/leader", "a", 3)));
    reads.add(scope(21, kv("/s/leader", "b", 21)));

    assertThat(scope.read(T).kvs()).extracting(RawKv::value).containsExactly("a");
    assertThat(scope.synced()).isFalse();
    assertThat(scope.read(T).kvs()).extracting(RawKv::value).containsExactly("b");
    assertThat(scope.synced()).isTrue();
  }

  @Test
  void changesArrivingWhileTheReadIsOnTheWireAreAppliedAfterIt() {
    scope.started(1);
    reads.add(scope(5, kv("/s/leader", "a", 5)));
    duringRead = () -> {
      // One change the read saw (5) and one it did not (6).
      scope.changed(List.of(kv("/s/leader", "a", 5)), List.of(), 5);
      scope.changed(List.of(), List.of("/s/leader"), 6);
    };

    RawScope s = scope.read(T);

    assertThat(s.kvs()).isEmpty();
    assertThat(s.revision()).isEqualTo(6);
  }

  @Test
  void aBrokenWatchMeansRangeReadsUntilAWatchCoversOneAgain() {
    scope.started(1);
    reads.add(scope(1, kv("/s/leader", "a", 1)));
    scope.read(T);

    scope.broken();
    assertThat(scope.synced()).isFalse();
    // etcd is down: the read fails rather than answering from what the cache held.
    assertThatThrownBy(() -> scope.read(T)).isInstanceOf(EtcdUnavailableException.class);

    reads.add(scope(9));
    assertThat(scope.read(T).kvs()).as("a read without a watch is not cached").isEmpty();
    assertThat(scope.synced()).isFalse();

    scope.started(9);
    reads.add(scope(9));
    scope.read(T);
    assertThat(scope.synced()).isTrue();
    assertThat(rangeReads).isEqualTo(4);
  }

  @Test
  void aWatchRestartedDuringTheReadLeavesTheCacheUnsynced() {
    scope.started(1);
    reads.add(scope(3));
    duringRead = () -> scope.started(4);

    scope.read(T);

    assertThat(scope.synced()).isFalse();
  }

  @Test
  void theScopeIsReReadInFullAfterThePeriod() {
    scope.started(1);
    reads.add(scope(1, kv("/s/leader", "a", 1)));
    scope.read(T);
    now.addAndGet(WatchedScope.FULL_READ_PERIOD.toNanos() - 1);
    scope.read(T);
    assertThat(rangeReads).isEqualTo(1);

    // Say the watch missed this change: the periodic re-read repairs the cache.
    now.addAndGet(1);
    reads.add(scope(7, kv("/s/leader", "b", 7)));
    assertThat(scope.read(T).kvs()).extracting(RawKv::value).containsExactly("b");
    assertThat(rangeReads).isEqualTo(2);
    assertThat(scope.synced()).isTrue();
    assertThat(scope.read(T).kvs()).extracting(RawKv::value).containsExactly("b");
    assertThat(rangeReads).isEqualTo(2);
  }

  @Test
  void theFullReadPeriodIsThirtySecondsOrTwoTtlsWhenLonger() {
    assertThat(WatchedScope.fullReadPeriod(Duration.ofSeconds(5))).isEqualTo(Duration.ofSeconds(30));
    assertThat(WatchedScope.fullReadPeriod(Duration.ofSeconds(15))).isEqualTo(Duration.ofSeconds(30));
    assertThat(WatchedScope.fullReadPeriod(Duration.ofSeconds(30))).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void aLongerPeriodDefersTheFullReRead() {
    Duration period = WatchedScope.fullReadPeriod(Duration.ofSeconds(30));
    scope.started(1);
    reads.add(scope(1, kv("/s/leader", "a", 1)));
    scope.read(T, period);
    now.addAndGet(WatchedScope.FULL_READ_PERIOD.toNanos());
    scope.read(T, period);
    assertThat(rangeReads).isEqualTo(1);

    now.addAndGet(period.minus(WatchedScope.FULL_READ_PERIOD).toNanos());
    reads.add(scope(7, kv("/s/leader", "b", 7)));
    assertThat(scope.read(T, period).kvs()).extracting(RawKv::value).containsExactly("b");
    assertThat(rangeReads).isEqualTo(2);
  }

  @Test
  void ownWritesAreSeenAtOnceEvenBeforeTheWatchDeliversThem() {
    scope.started(1);
    reads.add(scope(1));
    scope.read(T);

    // This process wrote the leader key at 2; the watch has not delivered it yet.
    ownWrite.set(2);
    reads.add(scope(2, kv("/s/leader", "me", 2)));
    assertThat(scope.read(T).kvs()).extracting(RawKv::value).containsExactly("me");
    assertThat(rangeReads).isEqualTo(2);
    // Delivered late: already in the read, nothing changes, and the cache answers again.
    scope.changed(List.of(kv("/s/leader", "me", 2)), List.of(), 2);
    assertThat(scope.read(T).kvs()).extracting(RawKv::value).containsExactly("me");
    assertThat(rangeReads).isEqualTo(2);

    // A write that timed out may or may not have happened: one range read tells.
    uncertain.incrementAndGet();
    reads.add(scope(3));
    assertThat(scope.read(T).kvs()).isEmpty();
    assertThat(scope.read(T).kvs()).isEmpty();
    assertThat(rangeReads).isEqualTo(3);
  }

  @Test
  void aWatchedPutKeepsTheLeaseOfItsKey() {
    scope.started(10);
    reads.add(scope(12, kv("/s/leader", "a", 11)));
    scope.read(T);
    scope.changed(List.of(new RawKv("/s/members/b", "{}", 13, 13, 1, 0x77L), kv("/s/members/x", "{}", 13)),
        List.of(), 13);

    assertThat(scope.read(T).kvs()).extracting(RawKv::key, RawKv::lease).containsExactly(
        org.assertj.core.groups.Tuple.tuple("/s/leader", 0L),
        org.assertj.core.groups.Tuple.tuple("/s/members/b", 0x77L),
        org.assertj.core.groups.Tuple.tuple("/s/members/x", 0L));
    assertThat(rangeReads).isEqualTo(1);
  }
}
