package io.pgwarden.common.decide;

import static io.pgwarden.common.testing.Observations.member;
import static io.pgwarden.common.testing.Observations.node;
import static java.time.Duration.ofMillis;
import static java.time.Duration.ofMinutes;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.pgwarden.common.decide.Action.AcquireLeaderKey;
import io.pgwarden.common.decide.Action.ClearSwitchover;
import io.pgwarden.common.decide.Action.Reload;
import io.pgwarden.common.decide.Action.MakeSlots;
import io.pgwarden.common.decide.Action.SetSyncStandbys;
import io.pgwarden.common.decide.Action.Bootstrap;
import io.pgwarden.common.decide.Action.Demote;
import io.pgwarden.common.decide.Action.EnsureSlots;
import io.pgwarden.common.decide.Action.FollowLeader;
import io.pgwarden.common.decide.Action.Halt;
import io.pgwarden.common.decide.Action.Promote;
import io.pgwarden.common.decide.Action.Rebuild;
import io.pgwarden.common.decide.Action.ReleaseLeaderKey;
import io.pgwarden.common.decide.Action.Rewind;
import io.pgwarden.common.decide.Action.StartMode;
import io.pgwarden.common.decide.Action.StartPostgres;
import io.pgwarden.common.decide.Action.WriteTopology;
import io.pgwarden.common.model.ControlState;
import io.pgwarden.common.model.DataDirState;
import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.model.InFlight;
import io.pgwarden.common.model.LocalPgState;
import io.pgwarden.common.model.Lsn;
import io.pgwarden.common.model.Observation;
import io.pgwarden.common.model.OperatorRequest;
import io.pgwarden.common.model.StandbyOnItsWay;
import io.pgwarden.common.model.Switchover;
import io.pgwarden.common.model.SynchronousMode;
import io.pgwarden.common.model.Tags;
import io.pgwarden.common.testing.Observations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The decision table: one row per branch of {@link Decider#decide}, named like Patroni's feature
 * lines. Each row gives an observation and the exact list of action classes expected, plus checks of
 * the fields that matter (modes, upstreams, terms).
 */
class DeciderTest {
  private static final Decider DECIDER = new Decider(DecisionPolicy.DEFAULT);
  private static final Duration SHORT = DecisionPolicy.DEFAULT.shortWait();
  private static final Duration LOOP_WAIT = ofSeconds(DynamicConfig.DEFAULT_LOOP_WAIT);

  /** What a row expects: the action classes, in order, and checks on the decision. */
  static final class Expect {
    final List<Class<? extends Action>> actions;
    final List<Consumer<Decision>> checks = new ArrayList<>();

    @SafeVarargs
    private Expect(Class<? extends Action>... actions) {
      this.actions = List.of(actions);
    }

    <A extends Action> Expect where(Class<A> type, Consumer<A> check) {
      checks.add(d -> check.accept(only(d, type)));
      return this;
    }

    Expect requeueAtMost(Duration max) {
      checks.add(d -> assertThat(d.requeueAfter()).isPositive().isLessThanOrEqualTo(max));
      return this;
    }

    Expect requeue(Duration exactly) {
      checks.add(d -> assertThat(d.requeueAfter()).isEqualTo(exactly));
      return this;
    }

    Expect summaryContains(String text) {
      checks.add(d -> assertThat(d.summary()).contains(text));
      return this;
    }

    @Override
    public String toString() {
      return actions.stream().map(Class::getSimpleName).collect(Collectors.joining(", ", "[", "]"));
    }
  }

  @SafeVarargs
  static Expect expect(Class<? extends Action>... actions) {
    return new Expect(actions);
  }

  static Expect noAction() {
    return new Expect();
  }

  static <A extends Action> A only(Decision d, Class<A> type) {
    List<A> found = d.actions().stream().filter(type::isInstance).map(type::cast).collect(Collectors.toList());
    assertThat(found).as("exactly one %s in %s", type.getSimpleName(), d.actions()).hasSize(1);
    return found.get(0);
  }

  static Arguments row(String feature, Observations obs, Expect expect) {
    return Arguments.of(Named.of(feature, obs.build()), expect);
  }

  static Consumer<Demote> demote(DemoteMode mode, boolean release) {
    return a -> {
      assertThat(a.mode()).isEqualTo(mode);
      assertThat(a.releaseKey()).isEqualTo(release);
    };
  }

  static Consumer<StartPostgres> start(StartMode mode, String upstream) {
    return a -> {
      assertThat(a.mode()).isEqualTo(mode);
      assertThat(a.upstream()).isEqualTo(upstream);
    };
  }

  /** A healthy primary n2 holding the key on timeline {@code tl}. */
  static Observations withLeaderN2(Observations o, long tl) {
    return o.leaderKey("n2").member(member("n2").primary(tl, "0/5000000")).topology(tl, "n2", tl);
  }

  static Stream<Arguments> rows() {
    return Stream.of(
        // ---- 1. fatal checks ----
        row("a data directory of another cluster halts the agent",
            node("n1").replicaRunning(1, "0/3000000").systemId("7399999999999999999"),
            expect(Halt.class).where(Halt.class, a -> assertThat(a.reason()).contains("7399999999999999999"))),
        row("a primary never halts on an /initialize value that is no identifier (written by hand)",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).initialize("garbage")
                .parseError("/pgwarden/t/initialize: not a system identifier (digits) nor empty (bootstrapping)"),
            noAction().summaryContains("primary with the lock")),
        row("nor does a replica, which does not compete either",
            node("n1").replicaRunning(1, "0/3000000").initialize("garbage").leaderAbsentFor(ofSeconds(60))
                .parseError("/pgwarden/t/initialize: not a system identifier (digits) nor empty (bootstrapping)"),
            noAction().summaryContains("not competing")),
        row("an unclaimed cluster never halts on the system identifier",
            node("n1").replicaRunning(1, "0/3000000").systemId("7399999999999999999").initialize("")
                .leaderAbsentFor(ofSeconds(60)),
            noAction()),

        // ---- local state unknown ----
        row("unreadable local state while holding a valid lock: keep the lock, retry",
            node("n1").localUnknown("connection refused", true).holdingKey(),
            noAction().requeue(SHORT)),
        row("unreadable local state with a live postmaster and no lock: demote fast",
            node("n1").localUnknown("connection refused", true).leaderKey("n2"),
            expect(Demote.class).where(Demote.class, demote(DemoteMode.FAST, false))),
        row("unreadable local state, key names me but my lease expired, postmaster alive: demote",
            node("n1").localUnknown("timeout", true).holdingKey().leaseExpired(),
            expect(Demote.class)),
        row("unreadable local state (a wrong password) of a server pg_control says is a standby: left running",
            node("n1").localUnknown("password authentication failed for user \"postgres\"", true,
                ControlState.IN_ARCHIVE_RECOVERY).leaderKey("n2"),
            noAction().summaryContains("runs as a standby")),
        row("… but one pg_control says is in production is stopped: it may take writes without the lock",
            node("n1").localUnknown("password authentication failed for user \"postgres\"", true,
                ControlState.IN_PRODUCTION).leaderKey("n2"),
            expect(Demote.class)),
        row("unreadable local state without a postmaster: wait",
            node("n1").localUnknown("pg_controldata failed", false).leaderKey("n2"),
            noAction()),
        row("unreadable local state, key still bound to the lease of my previous run: rebind, do not trust it",
            node("n1").localUnknown("timeout", true).leaderKey("n1", 1),
            expect(AcquireLeaderKey.class)),

        // ---- 2. etcd unreachable ----
        row("etcd unreachable, primary with a valid lease: stay primary until the deadline",
            node("n1").primaryRunning(2, "0/5000000").etcdUnreachable("timeout").lease(true, ofMillis(700)),
            noAction().requeue(ofMillis(700))),
        row("etcd unreachable, primary past the lease deadline: demote immediately",
            node("n1").primaryRunning(2, "0/5000000").etcdUnreachable("timeout").leaseExpired(),
            expect(Demote.class).where(Demote.class, demote(DemoteMode.IMMEDIATE, false))),
        row("etcd unreachable while paused: keep PostgreSQL as it is",
            node("n1").primaryRunning(2, "0/5000000").paused().etcdUnreachable("timeout").leaseExpired(),
            noAction()),
        row("etcd unreachable as a replica: wait",
            node("n1").replicaRunning(2, "0/5000000").etcdUnreachable("connection refused").leaseExpired(),
            noAction()),

        // ---- 3. in flight ----
        row("a base backup in flight: wait for it",
            node("n1").noData().inFlight(InFlight.Kind.BASE_BACKUP, "n2").leaderKey("n2")
                .member(member("n2").primary(1, "0/5000000")),
            noAction().requeue(SHORT).summaryContains("creating replica")),

        // A leader key bound to no lease was written by hand (etcdctl put): never a way to promote unranked.
        row("a replica named by a leader key bound to no lease does not take it",
            node("n1").replicaRunning(1, "0/3000000").leaderKey("n1", 0).topology(1, "n2", 1, "n3"),
            noAction().summaryContains("bound to no lease")),
        row("nor does a stopped node",
            node("n1").stopped(ControlState.SHUT_DOWN, 1, "0/5000000").leaderKey("n1", 0).topology(1, "n1", 1),
            noAction().summaryContains("bound to no lease")),
        row("the recorded primary, running as primary, binds such a key naming it to its lease",
            node("n1").primaryRunning(1, "0/5000000").leaderKey("n1", 0).topology(1, "n1", 1),
            expect(AcquireLeaderKey.class)),
        row("a primary demoted by a leader key bound to no lease is told why it stays",
            node("n1").primaryRunning(1, "0/5000000").leaderKey("garbage", 0).topology(1, "n1", 1),
            expect(Demote.class).summaryContains("bound to no lease")),

        // ---- paused ----
        row("paused primary whose key is bound to my previous lease: rebind",
            node("n1").primaryRunning(1, "0/5000000").paused().leaderKey("n1", 1).topology(1, "n1", 1),
            expect(AcquireLeaderKey.class)),
        row("paused recorded primary without the lock: take it",
            node("n1").primaryRunning(1, "0/5000000").paused().topology(1, "n1", 1),
            expect(AcquireLeaderKey.class)),
        row("paused primary that is not the recorded primary: no action",
            node("n1").primaryRunning(1, "0/5000000").paused().topology(1, "n2", 1),
            noAction().requeue(LOOP_WAIT)),
        row("paused replica with the leader gone: no failover",
            node("n1").replicaRunning(1, "0/5000000").paused().topology(1, "n2", 1)
                .leaderAbsentFor(ofSeconds(600)),
            noAction()),
        row("paused primary past its lease deadline: no automatic demotion",
            node("n1").primaryRunning(1, "0/5000000").paused().holdingKey().leaseExpired().topology(1, "n1", 1),
            noAction()),
        row("paused with PostgreSQL stopped: do not start it",
            node("n1").stopped(ControlState.SHUT_DOWN_IN_RECOVERY, 1, "0/3000000").paused().leaderKey("n2")
                .member(member("n2").primary(1, "0/5000000")),
            noAction().summaryContains("PostgreSQL stopped")),

        // ---- 4. no data ----
        row("an empty node bootstraps a cluster nobody initialised",
            node("n1").noData().notInitialized(),
            expect(Bootstrap.class)),
        row("an empty nofailover node never bootstraps",
            node("n1").noData().notInitialized().nofailover(),
            noAction()),
        row("an empty node clones from the running leader",
            withLeaderN2(node("n1").noData(), 1),
            expect(Rebuild.class).where(Rebuild.class, a -> assertThat(a.leader()).isEqualTo("n2"))),
        row("an unusable data directory is rebuilt from the running leader",
            withLeaderN2(node("n1").dataDir(DataDirState.INVALID), 1),
            expect(Rebuild.class).where(Rebuild.class, a -> assertThat(a.reason()).contains("invalid"))),
        row("an empty node of an initialised cluster without a leader waits",
            node("n1").noData(),
            noAction()),
        row("an empty node waits while the leader is not running",
            node("n1").noData().leaderKey("n2").member(member("n2").primary(1, "0/5000000").state("stopped")),
            noAction()),
        row("an empty node does not clone from a leader that is still a replica",
            node("n1").noData().leaderKey("n2").member(member("n2").replica(1, "0/5000000")),
            noAction()),
        row("an empty node does not bootstrap while another node is bootstrapping",
            node("n1").noData().initialize(""),
            noAction()),

        // ---- 5. PostgreSQL down ----
        row("stopped lock holder with primary data on the latest timeline starts as primary",
            node("n1").stopped(ControlState.SHUT_DOWN, 2, "0/5000000").holdingKey().topology(2, "n1", 2),
            expect(StartPostgres.class).where(StartPostgres.class, start(StartMode.PRIMARY, null))),
        row("stopped lock holder with replica data starts as a replica first",
            node("n1").stopped(ControlState.SHUT_DOWN_IN_RECOVERY, 2, "0/5000000").holdingKey().topology(2, "n2", 2),
            expect(StartPostgres.class).where(StartPostgres.class, start(StartMode.REPLICA, null))),
        row("stopped lock holder with primary data on an old timeline starts as a replica",
            node("n1").stopped(ControlState.SHUT_DOWN, 1, "0/5000000").holdingKey().topology(2, "n1", 2),
            expect(StartPostgres.class).where(StartPostgres.class, start(StartMode.REPLICA, null))),
        row("stopped primary whose key is still bound to my previous lease rebinds before starting writable",
            node("n1").stopped(ControlState.SHUT_DOWN, 2, "0/5000000").leaderKey("n1", 1).topology(2, "n1", 2),
            expect(AcquireLeaderKey.class)),
        row("stopped without a leader starts read-only, following nobody",
            node("n1").stopped(ControlState.SHUT_DOWN, 1, "0/5000000").leaderAbsentFor(ofSeconds(1)),
            expect(StartPostgres.class).where(StartPostgres.class, start(StartMode.REPLICA, null))),
        row("stopped, key names me but my lease expired: start read-only",
            node("n1").stopped(ControlState.SHUT_DOWN, 1, "0/5000000").holdingKey().leaseExpired(),
            expect(StartPostgres.class).where(StartPostgres.class, start(StartMode.REPLICA, null))),
        row("stopped while the leader is not running: wait",
            node("n1").stopped(ControlState.SHUT_DOWN_IN_RECOVERY, 1, "0/3000000").leaderKey("n2")
                .member(member("n2").primary(1, "0/5000000").state("starting")),
            noAction()),
        row("stopped while the leader has not published a status: wait",
            node("n1").stopped(ControlState.SHUT_DOWN_IN_RECOVERY, 1, "0/3000000").leaderKey("n2"),
            noAction()),
        row("a crashed former primary is rewound before it follows",
            withLeaderN2(node("n1").stopped(ControlState.IN_PRODUCTION, 1, "0/4000000"), 2)
                .historyEntry(2, "n1", "n2", 2, "0/3800000"),
            expect(Rewind.class).where(Rewind.class, a -> assertThat(a.leader()).isEqualTo("n2"))),
        row("a former primary whose rewind failed is rebuilt",
            withLeaderN2(node("n1").stopped(ControlState.SHUT_DOWN, 1, "0/4000000"), 2)
                .historyEntry(2, "n1", "n2", 2, "0/3800000").rewindFailed(),
            expect(Rebuild.class).where(Rebuild.class, a -> assertThat(a.leader()).isEqualTo("n2"))),
        row("a data directory whose rewind did not complete is not started without a leader",
            node("n1").stopped(ControlState.SHUT_DOWN, 1, "0/4000000").leaderAbsentFor(ofSeconds(1)).rewindFailed(),
            noAction().summaryContains("pg_rewind of this data directory did not complete")),
        row("a data directory whose rewind did not complete is not started while I hold the key",
            node("n1").stopped(ControlState.SHUT_DOWN, 2, "0/5000000").holdingKey().topology(2, "n1", 2)
                .rewindFailed(),
            noAction().summaryContains("did not complete")),
        row("a data directory whose rewind did not complete waits for a leader that is running as primary",
            node("n1").stopped(ControlState.SHUT_DOWN_IN_RECOVERY, 1, "0/3000000").leaderKey("n2")
                .member(member("n2").primary(1, "0/5000000").state("starting")).rewindFailed(),
            noAction().summaryContains("did not complete")),
        row("a replica whose rewind did not complete is rebuilt even when its data looks followable",
            withLeaderN2(node("n1").stopped(ControlState.SHUT_DOWN_IN_RECOVERY, 1, "0/3000000"), 1).rewindFailed(),
            expect(Rebuild.class).where(Rebuild.class, a -> assertThat(a.reason()).contains("did not complete"))),
        row("a stopped replica whose timeline diverged is rewound",
            withLeaderN2(node("n1").stopped(ControlState.SHUT_DOWN_IN_RECOVERY, 1, "0/4000000"), 2)
                .historyEntry(2, "n0", "n2", 2, "0/3800000"),
            expect(Rewind.class).where(Rewind.class, a -> assertThat(a.reason()).contains("diverged"))),
        row("a stopped replica behind the fork point starts as a replica of the leader",
            withLeaderN2(node("n1").stopped(ControlState.SHUT_DOWN_IN_RECOVERY, 1, "0/3000000"), 2)
                .historyEntry(2, "n0", "n2", 2, "0/3800000"),
            expect(StartPostgres.class).where(StartPostgres.class, start(StartMode.REPLICA, "n2"))),
        row("a stopped replica starts as a replica of the leader",
            withLeaderN2(node("n1").stopped(ControlState.SHUT_DOWN_IN_RECOVERY, 1, "0/3000000"), 1),
            expect(StartPostgres.class).where(StartPostgres.class, start(StartMode.REPLICA, "n2"))),

        // ---- 6. no leader ----
        row("the recorded primary with a valid lease retakes a free key",
            node("n1").primaryRunning(2, "0/5000000").topology(3, "n1", 2).leaderAbsentFor(ofSeconds(1)),
            expect(AcquireLeaderKey.class)),
        row("a freshly bootstrapped primary takes the free key",
            node("n1").primaryRunning(1, "0/3000000").leaderAbsentFor(ofSeconds(1)),
            expect(AcquireLeaderKey.class)),
        row("a primary that is not the recorded primary demotes",
            node("n1").primaryRunning(2, "0/5000000").topology(3, "n2", 2).leaderAbsentFor(ofSeconds(1)),
            expect(Demote.class).where(Demote.class, demote(DemoteMode.IMMEDIATE, false))),
        row("the recorded primary on another timeline demotes",
            node("n1").primaryRunning(3, "0/5000000").topology(3, "n1", 2).leaderAbsentFor(ofSeconds(1)),
            expect(Demote.class)),
        row("the recorded primary past its lease deadline demotes instead of retaking the key",
            node("n1").primaryRunning(2, "0/5000000").topology(3, "n1", 2).leaseExpired()
                .leaderAbsentFor(ofSeconds(1)),
            expect(Demote.class)),
        row("a primary without topology after failovers does not take the key",
            node("n1").primaryRunning(2, "0/5000000").historyEntry(2, "n0", "n1", 2, "0/3000000")
                .leaderAbsentFor(ofSeconds(1)),
            expect(Demote.class)),
        row("a nofailover replica does not compete",
            node("n1").replicaRunning(1, "0/5000000").nofailover().topology(1, "n2", 1)
                .leaderAbsentFor(ofSeconds(60)),
            noAction()),
        row("a replica on an old timeline is not eligible",
            node("n1").replicaRunning(1, "0/5000000").topology(2, "n2", 2).leaderAbsentFor(ofSeconds(60)),
            noAction().summaryContains("not eligible")),
        row("a replica lagging beyond maximum_lag_on_failover is not eligible",
            node("n1").replicaRunning(1, "0/3000000").topology(1, "n2", 1).maximumLagOnFailover(1024)
                .lastPrimaryPosition(1, "0/3100000").leaderAbsentFor(ofSeconds(60)),
            noAction().summaryContains("maximum_lag_on_failover")),
        row("in synchronous mode a replica that is not a synchronous standby is not eligible",
            node("n1").replicaRunning(1, "0/5000000").synchronousMode(SynchronousMode.ON)
                .topology(1, "n2", 1, "n3").member(member("n3").replica(1, "0/4000000"))
                .leaderAbsentFor(ofSeconds(60)),
            noAction().summaryContains("synchronous")),
        row("in synchronous mode the synchronous standby is promoted",
            node("n1").replicaRunning(1, "0/4000000").synchronousMode(SynchronousMode.ON)
                .topology(1, "n2", 1, "n1").member(member("n3").replica(1, "0/5000000"))
                .leaderAbsentFor(ofSeconds(60)),
            expect(MakeSlots.class, AcquireLeaderKey.class, Promote.class)),
        row("the healthiest replica waits for the others to publish fresh WAL positions",
            node("n1").replicaRunning(1, "0/5000000").topology(1, "n2", 1)
                .member(member("n3").replica(1, "0/4000000").modRevision(90))
                .leaderAbsentFor(ofSeconds(2), 95),
            noAction().summaryContains("waiting for the others")),
        row("the healthiest replica promotes after the freshness grace",
            node("n1").replicaRunning(1, "0/5000000").topology(1, "n2", 1)
                .member(member("n3").replica(1, "0/4000000").modRevision(90))
                .leaderAbsentFor(ofSeconds(3), 95),
            expect(MakeSlots.class, AcquireLeaderKey.class, Promote.class)),
        row("the healthiest replica promotes at once when every status is fresh",
            node("n1").replicaRunning(1, "0/5000000").topology(1, "n2", 1)
                .member(member("n3").replica(1, "0/4000000").modRevision(96))
                .leaderAbsentFor(ofMillis(10), 95),
            expect(MakeSlots.class, AcquireLeaderKey.class, Promote.class)),
        row("a replica behind a healthier candidate waits",
            node("n1").replicaRunning(1, "0/4000000").topology(1, "n2", 1)
                .member(member("n3").replica(1, "0/5000000"))
                .leaderAbsentFor(ofSeconds(9)),
            noAction().summaryContains("waiting for healthier n3")),
        row("a member key without a lease ahead of me does not hold a failover back",
            node("n1").replicaRunning(1, "0/4000000").topology(1, "n2", 1)
                .member(member("x").replica(1, "0/5000000").noLease())
                .leaderAbsentFor(ofSeconds(9)),
            expect(AcquireLeaderKey.class, Promote.class)),
        row("a replica behind a healthier candidate promotes after candidate_grace",
            node("n1").replicaRunning(1, "0/4000000").topology(1, "n2", 1)
                .member(member("n3").replica(1, "0/5000000"))
                .leaderAbsentFor(ofSeconds(10)),
            expect(MakeSlots.class, AcquireLeaderKey.class, Promote.class)),
        row("the third-ranked replica waits twice the candidate_grace",
            node("n1").replicaRunning(1, "0/3000000").topology(1, "n2", 1)
                .member(member("n3").replica(1, "0/5000000"))
                .member(member("n4").replica(1, "0/4000000"))
                .leaderAbsentFor(ofSeconds(19)),
            noAction()),
        row("the third-ranked replica promotes after twice the candidate_grace",
            node("n1").replicaRunning(1, "0/3000000").topology(1, "n2", 1)
                .member(member("n3").replica(1, "0/5000000"))
                .member(member("n4").replica(1, "0/4000000"))
                .leaderAbsentFor(ofSeconds(20)),
            expect(MakeSlots.class, AcquireLeaderKey.class, Promote.class)),
        row("a replica ahead in LSN but on an older timeline does not outrank one on the latest",
            node("n1").replicaRunning(2, "0/3000000").topology(2, "n2", 2)
                .member(member("n3").replica(1, "0/9000000"))
                .leaderAbsentFor(ofMillis(10)),
            expect(MakeSlots.class, AcquireLeaderKey.class, Promote.class)),

        // never promote on missing or unparsable data
        row("never promotes when the cluster's system identifier is unknown",
            node("n1").replicaRunning(1, "0/5000000").notInitialized().leaderAbsentFor(ofSeconds(60)),
            noAction()),
        row("never promotes while the cluster is being bootstrapped",
            node("n1").replicaRunning(1, "0/5000000").initialize("").leaderAbsentFor(ofSeconds(60)),
            noAction()),
        row("never promotes without knowing its own timeline",
            node("n1").replicaRunning(1, "0/5000000").timeline(null).topology(1, "n2", 1)
                .leaderAbsentFor(ofSeconds(60)),
            noAction().summaryContains("WAL position unknown")),
        row("never promotes without knowing its own WAL position",
            node("n1").replicaRunning(1, "0/5000000").localLsn(null).topology(1, "n2", 1)
                .leaderAbsentFor(ofSeconds(60)),
            noAction()),
        row("never promotes while a member status in etcd cannot be parsed",
            node("n1").replicaRunning(1, "0/5000000").topology(1, "n2", 1)
                .parseError("members/n3: timeline: not a number")
                .leaderAbsentFor(ofSeconds(60)),
            noAction().summaryContains("members/n3")),
        row("a member published without a timeline is not a candidate",
            node("n1").replicaRunning(1, "0/4000000").topology(1, "n2", 1)
                .member(member("n3").replica(1, "0/5000000").noTimeline())
                .leaderAbsentFor(ofMillis(10)),
            expect(MakeSlots.class, AcquireLeaderKey.class, Promote.class)),

        // ---- 7. I hold the key ----
        row("lock holder past its lease deadline demotes immediately and releases the key",
            node("n1").primaryRunning(2, "0/5000000").holdingKey().leaseExpired().topology(2, "n1", 2),
            expect(Demote.class).where(Demote.class, demote(DemoteMode.IMMEDIATE, true))),
        row("lock holder past its lease deadline as a replica waits",
            node("n1").replicaRunning(2, "0/5000000").holdingKey().leaseExpired().topology(2, "n2", 2),
            noAction()),
        row("a restarted lock holder rebinds the key to its new lease",
            node("n1").primaryRunning(2, "0/5000000").leaderKey("n1", 1).topology(2, "n1", 2),
            expect(AcquireLeaderKey.class)),
        row("a replica holding the lock promotes, and records its new timeline in the tick right after",
            node("n1").replicaRunning(1, "0/5000000").holdingKey().topology(1, "n2", 1),
            expect(Promote.class).requeue(Duration.ZERO)),
        row("a new primary without topology writes term 1 (bootstrap)",
            node("n1").primaryRunning(1, "0/3000060").holdingKey(),
            expect(WriteTopology.class).where(WriteTopology.class, a -> {
              assertThat(a.topology().term()).isEqualTo(1);
              assertThat(a.topology().primary()).isEqualTo("n1");
              assertThat(a.topology().timeline()).isEqualTo(1);
              assertThat(a.history().kind()).isEqualTo("bootstrap");
              assertThat(a.history().from()).isNull();
              assertThat(a.history().term()).isEqualTo(1);
            })),
        row("a new primary after a failover writes the next term with the switch point",
            node("n1").primaryRunning(3, "0/6000000").holdingKey().topology(4, "n2", 2)
                .timelineSwitch(1, "0/3000000").timelineSwitch(2, "0/5000028"),
            expect(WriteTopology.class).where(WriteTopology.class, a -> {
              assertThat(a.topology().term()).isEqualTo(5);
              assertThat(a.topology().timeline()).isEqualTo(3);
              assertThat(a.topology().syncStandbys()).isEmpty();
              assertThat(a.history().kind()).isEqualTo("failover");
              assertThat(a.history().from()).isEqualTo("n2");
              assertThat(a.history().to()).isEqualTo("n1");
              assertThat(a.history().timeline()).isEqualTo(3);
              assertThat(a.history().switchLsn()).isEqualTo(Lsn.parse("0/5000028"));
            })),
        row("the recorded primary on a new timeline writes the next term as a restart",
            node("n1").primaryRunning(3, "0/6000000").holdingKey().topology(4, "n1", 2)
                .timelineSwitch(2, "0/5000028"),
            expect(WriteTopology.class).where(WriteTopology.class, a -> {
              assertThat(a.topology().term()).isEqualTo(5);
              assertThat(a.history().kind()).isEqualTo("restart");
              assertThat(a.history().from()).isEqualTo("n1");
            })),
        row("a primary rewriting a lost topology never reuses a term from history",
            node("n1").primaryRunning(3, "0/6000000").holdingKey()
                .historyEntry(6, "n2", "n1", 3, "0/5000028"),
            expect(WriteTopology.class).where(WriteTopology.class, a -> {
              assertThat(a.topology().term()).isEqualTo(7);
              assertThat(a.history().term()).isEqualTo(7);
            })),
        row("a primary that cannot read its own timeline writes no topology",
            node("n1").primaryRunning(2, "0/5000000").timeline(null).holdingKey().topology(2, "n1", 2),
            noAction()),
        row("the primary with the lock creates a slot for every other member",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("old")
                .member(member("n1").primary(1, "0/5000000"))
                .member(member("n2").replica(1, "0/5000000"))
                .member(member("n-3").replica(1, "0/5000000")),
            expect(EnsureSlots.class).where(EnsureSlots.class, a -> assertThat(a.slots()).containsExactlyInAnyOrder("n2", "n_3"))
                .requeue(LOOP_WAIT)),
        row("a member key bound to a lease gets a slot, one without a lease gets none",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1)
                .member(member("n1").primary(1, "0/5000000"))
                .member(member("n2").replica(1, "0/5000000"))
                .member(member("x").replica(1, "0/5000000").noLease()),
            expect(EnsureSlots.class).where(EnsureSlots.class, a -> assertThat(a.slots()).containsExactly("n2"))),
        row("the slot of a member key that lost its lease is dropped with the unwanted ones",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2", "x")
                .member(member("n2").replica(1, "0/5000000"))
                .member(member("x").replica(1, "0/5000000").noLease()),
            expect(EnsureSlots.class).where(EnsureSlots.class, a -> assertThat(a.slots()).containsExactly("n2"))),
        row("no action: slots for the lease-bound members only, a leaseless member key ignored",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2")
                .member(member("n2").replica(1, "0/5000000"))
                .member(member("x").replica(1, "0/5000000").noLease()),
            noAction().summaryContains("the primary with the lock")),
        row("no action: the primary with the lock, requeued before the lease runs out",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2")
                .member(member("n2").replica(1, "0/5000000")).lease(true, ofMillis(1500)),
            noAction().requeue(ofMillis(1500)).summaryContains("the primary with the lock")),
        row("no action: the primary with the lock, requeued after loop_wait",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1),
            noAction().requeue(LOOP_WAIT)),

        // ---- 8. I follow ----
        row("a primary while another holds the lock demotes immediately",
            withLeaderN2(node("n1").primaryRunning(1, "0/5000000"), 1),
            expect(Demote.class).where(Demote.class, demote(DemoteMode.IMMEDIATE, false))),
        row("a running replica whose timeline diverged stops for a rewind",
            withLeaderN2(node("n1").replicaRunning(1, "0/4000000").streamingFrom("n0:5432"), 2)
                .historyEntry(2, "n0", "n2", 2, "0/3800000"),
            expect(Demote.class).where(Demote.class, demote(DemoteMode.FAST, false))),
        row("a replica waits while the leader has not published conn_url",
            node("n1").replicaRunning(1, "0/3000000").leaderKey("n2")
                .member(member("n2").primary(1, "0/5000000").noConnUrl()),
            noAction()),
        row("a replica follows a new leader",
            withLeaderN2(node("n1").replicaRunning(1, "0/3000000").streamingFrom("n0:5432"), 1),
            expect(FollowLeader.class).where(FollowLeader.class, a -> assertThat(a.leader()).isEqualTo("n2"))),
        row("a replica of the leader not streaming yet looks again soon",
            withLeaderN2(node("n1").replicaRunning(1, "0/3000000").upstream("n2:5432"), 1),
            noAction().requeue(SHORT)),
        row("no action: a replica streaming from the leader",
            withLeaderN2(node("n1").replicaRunning(1, "0/3000000").streamingFrom("n2:5432"), 1),
            noAction().requeue(LOOP_WAIT).summaryContains("streaming from the leader n2")),
        row("a replica streaming from the leader drops idle slots left from its term as primary: they would keep its WAL",
            withLeaderN2(node("n1").replicaRunning(1, "0/3000000").streamingFrom("n2:5432").slots("n2", "n3"), 1),
            expect(EnsureSlots.class).where(EnsureSlots.class, a -> assertThat(a.slots()).isEmpty())
                .requeue(LOOP_WAIT).summaryContains("dropping idle replication slots [n2, n3]")),
        row("a replica not streaming yet keeps them for now",
            withLeaderN2(node("n1").replicaRunning(1, "0/3000000").upstream("n2:5432").slots("n3"), 1),
            noAction().requeue(SHORT)),

        // ---- synchronous replication (the lock holder's bookkeeping) ----
        row("a healthy streaming replica is set in PostgreSQL first, the record left as it is, and looked at again soon",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2"))
                .member(member("n2").replica(1, "0/5000000")),
            expect(SetSyncStandbys.class).where(SetSyncStandbys.class, a -> assertThat(a.names()).containsExactly("n2"))
                .requeue(ofMillis(500))),
        row("a standby that says it streams from me is not named before my pg_stat_replication shows it: it would hold every commit",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2")
                .streamingStandbys()).member(member("n2").replica(1, "0/5000000")),
            noAction().requeue(ofMillis(500)).summaryContains("a standby is on its way")),
        row("of two that say they stream, the one my pg_stat_replication shows is named, though further behind",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2", "n3")
                .streamingStandbys("n3")).member(member("n2").replica(1, "0/5000000"))
                .member(member("n3").replica(1, "0/4000000")),
            expect(SetSyncStandbys.class).where(SetSyncStandbys.class, a -> assertThat(a.names()).containsExactly("n3"))),
        row("a standby PostgreSQL already waits for stays named while it reconnects (its own status decides)",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1, "n2").slots("n2", "n3")
                .pgSyncStandbys("n2").syncConfirmed().streamingStandbys("n3")).member(member("n2").replica(1, "0/5000000"))
                .member(member("n3").replica(1, "0/5000000")),
            noAction()),
        row("a standby PostgreSQL waits for is not recorded before it shows synchronous and streaming (catching up)",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2")
                .pgSyncStandbys("n2")).member(member("n2").replica(1, "0/1000000")),
            noAction().requeue(ofMillis(500))),
        row("it is recorded once PostgreSQL shows it synchronous and streaming",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2")
                .pgSyncStandbys("n2").syncConfirmed("n2")).member(member("n2").replica(1, "0/5000000")),
            expect(WriteTopology.class).where(WriteTopology.class, a -> {
              assertThat(a.topology().syncStandbys()).containsExactly("n2");
              assertThat(a.topology().term()).isEqualTo(1);
              assertThat(a.history()).isNull();
            })),
        row("a synchronous standby that stopped streaming leaves the record before PostgreSQL waits for another",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1, "n2").slots("n2", "n3")
                .pgSyncStandbys("n2").syncConfirmed()).member(member("n2").replica(1, "0/5000000").notStreaming())
                .member(member("n3").replica(1, "0/4000000")),
            expect(WriteTopology.class).where(WriteTopology.class, a -> assertThat(a.topology().syncStandbys()).isEmpty())),
        row("then PostgreSQL waits for the other, which the record gets only once it is caught up",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2", "n3")
                .pgSyncStandbys("n2")).member(member("n2").replica(1, "0/5000000").notStreaming())
                .member(member("n3").replica(1, "0/4000000")),
            expect(SetSyncStandbys.class).where(SetSyncStandbys.class, a -> assertThat(a.names()).containsExactly("n3"))),
        row("a recorded synchronous standby is then set in PostgreSQL",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1, "n2").slots("n2"))
                .member(member("n2").replica(1, "0/5000000")),
            expect(SetSyncStandbys.class).where(SetSyncStandbys.class, a -> assertThat(a.names()).containsExactly("n2"))),
        row("a member that returns gets its slot in the tick that sets it in PostgreSQL, not a loop_wait later",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2"))
                .member(member("n2").replica(1, "0/5000000"))
                .member(member("n3").replica(1, "0/5000000")),
            expect(SetSyncStandbys.class, EnsureSlots.class)
                .where(EnsureSlots.class, a -> assertThat(a.slots()).containsExactly("n2", "n3"))
                .summaryContains("setting synchronous standby").summaryContains("syncing replication slots")),
        row("a recorded synchronous standby is set in PostgreSQL together with a returning member's slot",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1, "n2").slots("n2"))
                .member(member("n2").replica(1, "0/5000000"))
                .member(member("n3").replica(1, "0/5000000")),
            expect(SetSyncStandbys.class, EnsureSlots.class)
                .where(EnsureSlots.class, a -> assertThat(a.slots()).containsExactly("n2", "n3"))),
        row("a cloning member makes the holder look again soon while no synchronous standby is recorded",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2"))
                .member(member("n2").replica(1, "0/5000000").state("creating replica")),
            noAction().requeue(ofMillis(500)).summaryContains("a standby is on its way")),
        row("so does a member without data, about to clone",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2"))
                .member(member("n2").stoppedAt(1, "0/5000000").systemId(null)),
            noAction().requeue(ofMillis(500))),
        row("so does a rewinding member, while its slot is made",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1))
                .member(member("n2").stoppedAt(1, "0/5000000").state("rewinding")),
            expect(EnsureSlots.class).requeue(ofMillis(500))),
        row("and a running replica whose WAL receiver has not connected yet",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2"))
                .member(member("n2").replica(1, "0/5000000").notStreaming()),
            noAction().requeue(ofMillis(500))),
        row("a replica that has not streamed for 29 s still hurries the holder",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2"))
                .member(member("n2").replica(1, "0/5000000").notStreaming()).onItsWayFor("n2", ofSeconds(29)),
            noAction().requeue(ofMillis(500)).summaryContains("a standby is on its way")),
        row("after 30 s in that state (a bad primary_conninfo, pg_hba) the holder is back at loop_wait, naming it",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2"))
                .member(member("n2").replica(1, "0/5000000").notStreaming()).onItsWayFor("n2", ofSeconds(30)),
            noAction().requeue(LOOP_WAIT).summaryContains("primary with the lock")
                .summaryContains("for over 30 s [n2: not streaming from me]")),
        row("so it is for a base backup that runs for long, while its slot is made",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1))
                .member(member("n2").replica(1, "0/5000000").state("creating replica"))
                .onItsWayFor("n2", ofMinutes(10)),
            expect(EnsureSlots.class).requeue(LOOP_WAIT)),
        row("a member that starts joining beside the stuck one hurries the holder again (its way is the youngest)",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2", "n3"))
                .member(member("n2").replica(1, "0/5000000").notStreaming()).onItsWayFor("n2", ofMinutes(10))
                .member(member("n3").replica(1, "0/5000000").state("creating replica")).onItsWayFor("n3", ofSeconds(1)),
            noAction().requeue(ofMillis(500))),
        row("once every member on its way has been on it for 30 s, the summary names them all",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2", "n3")
                .pgSyncStandbys("n2")).member(member("n2").replica(1, "0/5000000")).onItsWayFor("n2", ofMinutes(10))
                .member(member("n3").replica(1, "0/5000000").state("creating replica")).onItsWayFor("n3", ofSeconds(30)),
            noAction().requeue(LOOP_WAIT)
                .summaryContains("for over 30 s [n2: waited for by PostgreSQL, n3: creating replica]")),
        row("a stopped member does not hurry the holder: it may stay stopped",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2"))
                .member(member("n2").stoppedAt(1, "0/5000000")),
            noAction().requeue(LOOP_WAIT)),
        row("nor does a cloning member tagged nosync",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2"))
                .member(member("n2").replica(1, "0/5000000").state("creating replica").tags(new Tags(false, false, 1, true))),
            noAction().requeue(LOOP_WAIT)),
        row("nor a cloning member once the synchronous standbys are recorded",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1, "n2").slots("n2", "n3")
                .pgSyncStandbys("n2")).member(member("n2").replica(1, "0/5000000"))
                .member(member("n3").replica(1, "0/5000000").state("creating replica")),
            noAction().requeue(LOOP_WAIT)),
        row("nor a cloning member without synchronous mode",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2")
                .member(member("n2").replica(1, "0/5000000").state("creating replica")),
            noAction().requeue(LOOP_WAIT)),
        row("a vanished synchronous standby leaves the record first",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1, "n2").pgSyncStandbys("n2")),
            expect(WriteTopology.class).where(WriteTopology.class, a -> assertThat(a.topology().syncStandbys()).isEmpty())
                .summaryContains("before PostgreSQL may stop waiting for it")),
        row("and only then does PostgreSQL stop waiting for it",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).pgSyncStandbys("n2")),
            expect(SetSyncStandbys.class).where(SetSyncStandbys.class, a -> assertThat(a.names()).isEmpty())),
        row("a member key without a lease is never made a synchronous standby",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1))
                .member(member("x").replica(1, "0/5000000").noLease()),
            noAction().summaryContains("primary with the lock")),
        row("strict mode with no healthy standby makes PostgreSQL wait for any",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1)
                .synchronousMode(SynchronousMode.STRICT),
            expect(SetSyncStandbys.class).where(SetSyncStandbys.class, a -> assertThat(a.names()).containsExactly("*"))),
        row("no action: the synchronous standby is recorded and set",
            sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1, "n2").slots("n2")
                .pgSyncStandbys("n2")).member(member("n2").replica(1, "0/5000000")),
            noAction().summaryContains("primary with the lock")),
        row("in synchronous mode with no recorded synchronous standby nobody is promoted",
            sync(node("n1").replicaRunning(1, "0/5000000").topology(1, "n2", 1)).leaderAbsentFor(ofSeconds(60)),
            noAction().summaryContains("no synchronous standby was recorded")),

        // ---- operator requests ----
        row("a reload request reloads PostgreSQL",
            withLeaderN2(node("n1").replicaRunning(1, "0/3000000").streamingFrom("n2:5432"), 1)
                .request(OperatorRequest.RELOAD),
            expect(Reload.class)),
        row("a restart request stops PostgreSQL fast; the next tick starts it in its role",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).request(OperatorRequest.RESTART),
            expect(Demote.class).where(Demote.class, demote(DemoteMode.FAST, false))),
        row("a reinit request on a replica stops it and takes a fresh base backup",
            withLeaderN2(node("n1").replicaRunning(1, "0/3000000").streamingFrom("n2:5432"), 1)
                .request(OperatorRequest.REINIT),
            expect(Demote.class, Rebuild.class).where(Rebuild.class, a -> assertThat(a.leader()).isEqualTo("n2"))),
        row("a reinit request on the primary is refused",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).request(OperatorRequest.REINIT),
            noAction().summaryContains("reinit refused")),
        // Paused, nothing starts a stopped PostgreSQL again: the restart starts it in the same decision.
        row("paused: a restart request on a replica stops it and starts it again following the leader",
            withLeaderN2(node("n1").replicaRunning(1, "0/3000000").streamingFrom("n2:5432"), 1).paused()
                .request(OperatorRequest.RESTART),
            expect(Demote.class, StartPostgres.class).where(Demote.class, demote(DemoteMode.FAST, false))
                .where(StartPostgres.class, a -> assertThat(a).isEqualTo(
                    new StartPostgres(StartMode.REPLICA, "n2", "restart requested (paused)")))),
        row("paused: a restart request on the primary holding the lock starts it again as primary",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).paused()
                .request(OperatorRequest.RESTART),
            expect(Demote.class, StartPostgres.class).where(Demote.class, demote(DemoteMode.FAST, false))
                .where(StartPostgres.class, a -> assertThat(a.mode()).isEqualTo(StartMode.PRIMARY))),
        row("paused: a primary without the lock is not restarted (it could only come back read-only)",
            node("n1").primaryRunning(1, "0/5000000").topology(1, "n1", 1).paused().request(OperatorRequest.RESTART),
            noAction().summaryContains("restart refused")),
        row("paused: a replica whose leader published no address is not restarted (it could not start again)",
            node("n1").replicaRunning(1, "0/3000000").leaderKey("n2").topology(1, "n2", 1).paused()
                .request(OperatorRequest.RESTART),
            noAction().summaryContains("no connection address")),
        row("paused: a restart request with PostgreSQL stopped says nothing starts it",
            node("n1").stopped(ControlState.SHUT_DOWN_IN_RECOVERY, 1, "0/3000000").paused().leaderKey("n2")
                .member(member("n2").primary(1, "0/5000000")).request(OperatorRequest.RESTART),
            noAction().summaryContains("pgwarden resume")),

        // ---- planned switchover ----
        row("the primary stops writes for a switchover to a healthy replica",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2")
                .member(member("n2").replica(1, "0/5000000")).switchover(new Switchover("n1", "n2", null, false, false)),
            // Handed over by the next tick, which runs as soon as the stop has returned.
            expect(Demote.class).where(Demote.class, demote(DemoteMode.FAST, false)).requeue(Duration.ZERO)),
        row("no switchover while etcd holds a value no candidate would promote on: it is cleared, writes go on",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2")
                .member(member("n2").replica(1, "0/5000000")).switchover(new Switchover("n1", "n2", null, false, false))
                .parseError("/pgwarden/t/history: not valid JSON (line 1, column 2)"),
            expect(ClearSwitchover.class).summaryContains("nobody can promote on")),
        row("a switchover scheduled for later waits",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2")
                .member(member("n2").replica(1, "0/5000000"))
                .switchover(new Switchover("n1", "n2", "2026-01-01T01:00:00Z", false, false)),
            noAction().summaryContains("primary with the lock")),
        row("a switchover to a member that is not a healthy replica is cleared",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1)
                .switchover(new Switchover("n1", "n9", null, false, false)),
            expect(ClearSwitchover.class)),
        row("a switchover to a member whose key has no lease is cleared",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1)
                .member(member("x").replica(1, "0/5000000").noLease())
                .switchover(new Switchover("n1", "x", null, false, false)),
            expect(ClearSwitchover.class).summaryContains("not bound to a lease")),
        row("a switchover without a target never picks a member key without a lease",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1)
                .member(member("x").replica(1, "0/5000000").noLease())
                .switchover(new Switchover("n1", null, null, false, false)),
            expect(ClearSwitchover.class).summaryContains("no healthy streaming replica")),
        row("a switchover naming another primary is cleared by the lock holder",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1)
                .switchover(new Switchover("n7", "n2", null, false, false)),
            expect(ClearSwitchover.class)),
        row("a primary that did not shut down cleanly hands over to no replica but a recorded synchronous standby",
            node("n1").stopped(ControlState.IN_PRODUCTION, 1, "0/5000000").holdingKey().topology(1, "n1", 1)
                .member(member("n2").replica(1, "0/5000100")).switchover(new Switchover("n1", "n2", null, false, false)),
            expect(ClearSwitchover.class).summaryContains("did not shut down cleanly")),
        row("a stopped primary keeps the lock rather than hand it over while etcd holds values nobody promotes on",
            node("n1").stopped(ControlState.SHUT_DOWN, 1, "0/5000000").holdingKey().topology(1, "n1", 1)
                .member(member("n2").replica(1, "0/5000100")).switchover(new Switchover("n1", "n2", null, false, false))
                .parseError("/pgwarden/t/members/junk: not valid JSON (line 1, column 2)"),
            expect(ClearSwitchover.class).summaryContains("no candidate would promote on")),
        row("the new primary of a synchronous switchover lets held commits through before it clears the request",
            sync(node("n2").primaryRunning(2, "0/5000200").holdingKey().topology(1, "n1", 1, "n2").timelineSwitch(1, "0/5000100")
                .switchover(new Switchover("n1", "n2", null, false, false)).pgSyncStandbys(LocalPgState.PROMOTION_HOLD)),
            expect(WriteTopology.class, SetSyncStandbys.class, ClearSwitchover.class)),
        row("to a recorded synchronous standby it may: that one holds every acknowledged commit",
            sync(node("n1").stopped(ControlState.IN_PRODUCTION, 1, "0/5000000").holdingKey().topology(1, "n1", 1, "n2"))
                .member(member("n2").replica(1, "0/5000100")).switchover(new Switchover("n1", "n2", null, false, false)),
            expect(ReleaseLeaderKey.class)),
        row("the stopped primary hands the lock over once its final position is published",
            node("n1").stopped(ControlState.SHUT_DOWN, 1, "0/5000000").holdingKey().topology(1, "n1", 1)
                .member(member("n2").replica(1, "0/5000100")).switchover(new Switchover("n1", "n2", null, false, false)),
            expect(ReleaseLeaderKey.class)),
        row("the switchover target promotes once it has all of the old primary's WAL",
            node("n2").replicaRunning(1, "0/5000100").topology(1, "n1", 1).member(member("n1").stoppedAt(1, "0/5000000"))
                .switchover(new Switchover("n1", "n2", null, false, false)).leaderAbsentFor(ofMillis(10)),
            expect(MakeSlots.class, AcquireLeaderKey.class, Promote.class)),
        row("the promotion makes the slots its standbys will need first, by slot name, before taking the key",
            node("n2").replicaRunning(1, "0/5000100").topology(1, "n1", 1).member(member("n1").stoppedAt(1, "0/5000000"))
                .member(member("Node-3").replica(1, "0/5000100"))
                .switchover(new Switchover("n1", "n2", null, false, false)).leaderAbsentFor(ofMillis(10)),
            expect(MakeSlots.class, AcquireLeaderKey.class, Promote.class)
                .where(MakeSlots.class, a -> assertThat(a.slots()).containsExactlyInAnyOrder("n1", "node_3"))),
        row("slots already there (made while the switchover was pending) are not made again",
            node("n2").replicaRunning(1, "0/5000100").topology(1, "n1", 1).member(member("n1").stoppedAt(1, "0/5000000"))
                .member(member("n3").replica(1, "0/5000100")).slots("n1", "n3")
                .switchover(new Switchover("n1", "n2", null, false, false)).leaderAbsentFor(ofMillis(10)),
            expect(AcquireLeaderKey.class, Promote.class)),
        row("a replica a switchover is pending for makes its standbys' slots while the primary stops",
            withLeaderN2(node("n1").replicaRunning(1, "0/3000000").streamingFrom("n2:5432"), 1)
                .member(member("n3").replica(1, "0/3000000")).switchover(new Switchover("n2", "n1", null, false, false)),
            expect(MakeSlots.class).where(MakeSlots.class, a -> assertThat(a.slots()).containsExactlyInAnyOrder("n2", "n3"))
                .requeue(SHORT)),
        row("and keeps them, idle as they are, until it promotes",
            withLeaderN2(node("n1").replicaRunning(1, "0/3000000").streamingFrom("n2:5432").slots("n2", "n3"), 1)
                .member(member("n3").replica(1, "0/3000000")).switchover(new Switchover("n2", "n1", null, false, false)),
            noAction()),
        row("a switchover target that still reports its previous timeline compares positions with its upstream",
            node("n2").replicaRunning(1, "0/5000100").upstream("n1:5432").topology(2, "n1", 2)
                .member(member("n1").stoppedAt(2, "0/5000000"))
                .switchover(new Switchover("n1", "n2", null, false, false)).leaderAbsentFor(ofMillis(10)),
            expect(MakeSlots.class, AcquireLeaderKey.class, Promote.class)),
        row("the switchover target waits for the old primary's last WAL",
            node("n2").replicaRunning(1, "0/4000000").topology(1, "n1", 1).member(member("n1").stoppedAt(1, "0/5000000"))
                .switchover(new Switchover("n1", "n2", null, false, false)).leaderAbsentFor(ofMillis(10)),
            noAction().summaryContains("waiting to receive")),
        row("other replicas wait for the switchover target",
            node("n3").replicaRunning(1, "0/5000100").topology(1, "n1", 1).member(member("n1").stoppedAt(1, "0/5000000"))
                .switchover(new Switchover("n1", "n2", null, false, false)).leaderAbsentFor(ofMillis(10)),
            noAction().summaryContains("waiting for it")),
        row("the new primary records a switchover in history and clears the request",
            node("n2").primaryRunning(2, "0/5000200").holdingKey().topology(1, "n1", 1).timelineSwitch(1, "0/5000100")
                .switchover(new Switchover("n1", "n2", null, false, false)),
            expect(WriteTopology.class, ClearSwitchover.class).where(WriteTopology.class, a -> {
              assertThat(a.history().kind()).isEqualTo("switchover");
              assertThat(a.history().switchLsn()).isEqualTo(Lsn.parse("0/5000100"));
            })),
        row("in synchronous mode the new primary releases the commits its promotion held once the topology is written",
            sync(node("n2").primaryRunning(2, "0/5000200").holdingKey().topology(1, "n1", 1, "n2").timelineSwitch(1, "0/5000100")
                .pgSyncStandbys(LocalPgState.PROMOTION_HOLD)),
            expect(WriteTopology.class, SetSyncStandbys.class)
                .where(WriteTopology.class, a -> assertThat(a.topology().syncStandbys()).isEmpty())
                .where(SetSyncStandbys.class, a -> assertThat(a.names()).isEmpty())),
        row("a primary whose topology key was lost records itself again as a restart, above the history's terms",
            node("n1").primaryRunning(3, "0/5000000").holdingKey().historyEntry(3, "n2", "n1", 3, "0/4000000"),
            expect(WriteTopology.class).where(WriteTopology.class, a -> {
              assertThat(a.topology().term()).isEqualTo(4);
              assertThat(a.history().kind()).isEqualTo("restart");
              assertThat(a.history().from()).isEqualTo("n1");
            })),
        row("in strict mode, once the topology is written, any standby may acknowledge (none is recorded yet)",
            node("n2").primaryRunning(2, "0/5000200").holdingKey().topology(1, "n1", 1, "n2").timelineSwitch(1, "0/5000100")
                .synchronousMode(SynchronousMode.STRICT).pgSyncStandbys(LocalPgState.PROMOTION_HOLD),
            expect(WriteTopology.class, SetSyncStandbys.class)
                .where(SetSyncStandbys.class, a -> assertThat(a.names()).containsExactly("*"))),
        row("a primary whose commits any standby may acknowledge writes its topology and leaves the setting alone",
            sync(node("n2").primaryRunning(2, "0/5000200").holdingKey().topology(1, "n1", 1, "n2").timelineSwitch(1, "0/5000100")
                .pgSyncStandbys("*")),
            expect(WriteTopology.class)),
        row("a cleanly shut down old primary follows without rewind when it stopped before the fork",
            withLeaderN2(node("n1").stopped(ControlState.SHUT_DOWN, 1, "0/5000000"), 2)
                .historyEntry(2, "n1", "n2", 2, "0/5000100"),
            expect(StartPostgres.class).where(StartPostgres.class, start(StartMode.REPLICA, "n2"))),
        row("a former primary waits until the new leader has promoted and recorded its timeline",
            node("n1").stopped(ControlState.SHUT_DOWN, 3, "0/5000000").leaderKey("n2")
                .member(member("n2").replica(3, "0/5000100")).topology(3, "n1", 3),
            noAction().summaryContains("to record its new timeline")),
        row("in synchronous mode the recorded primary, restarted read-only after a crash, may lead again",
            sync(node("n1").replicaRunning(1, "0/5000000").topology(1, "n1", 1)).leaderAbsentFor(ofSeconds(60)),
            expect(AcquireLeaderKey.class, Promote.class)),
        row("a former primary rewinds once a newer topology names another",
            withLeaderN2(node("n1").stopped(ControlState.IN_PRODUCTION, 1, "0/5000000"), 2)
                .topology(3, "n2", 2).historyEntry(3, "n1", "n2", 2, "0/4000000"),
            expect(Rewind.class)),
        row("a former primary whose timeline is not older than the leader's is cloned, not rewound",
            withLeaderN2(node("n1").stopped(ControlState.IN_PRODUCTION, 2, "0/5000000"), 2)
                .topology(3, "n2", 2).historyEntry(3, "n1", "n2", 2, "0/4000000"),
            expect(Rebuild.class)),
        row("a base backup that failed to start is started again, not cloned again (its pg_control says in production)",
            withLeaderN2(node("n1").stopped(ControlState.BASE_BACKUP, 1, "0/3000000"), 1),
            expect(StartPostgres.class).where(StartPostgres.class, start(StartMode.REPLICA, "n2"))),
        row("a base backup on a newer leader timeline than its own is started too: recovery follows the history",
            withLeaderN2(node("n1").stopped(ControlState.BASE_BACKUP, 1, "0/3000000"), 2)
                .historyEntry(2, "n0", "n2", 2, "0/3800000"),
            expect(StartPostgres.class).where(StartPostgres.class, start(StartMode.REPLICA, "n2"))),
        row("a postmaster still starting up is left alone",
            withLeaderN2(node("n1").stopped(ControlState.STARTING_UP, 1, "0/3000000").postmasterAlive(), 1),
            noAction().summaryContains("starting up")),
        row("a stopped node waits until the leader recorded its new timeline",
            node("n1").stopped(ControlState.SHUT_DOWN, 1, "0/5000000").leaderKey("n2")
                .member(member("n2").primary(2, "0/5000200")).topology(1, "n1", 1),
            noAction().summaryContains("to record")),

        // ---- forced failover ----
        row("a forced failover to an ineligible replica is refused without --allow-data-loss",
            sync(node("n2").replicaRunning(1, "0/4000000").topology(1, "n1", 1))
                .switchover(new Switchover("n1", "n2", null, true, false)).leaderAbsentFor(ofSeconds(60)),
            noAction().summaryContains("allow-data-loss")),
        row("a forced failover with data loss allowed promotes the named replica",
            sync(node("n2").replicaRunning(1, "0/4000000").topology(1, "n1", 1))
                .switchover(new Switchover("n1", "n2", null, true, true)).leaderAbsentFor(ofSeconds(60)),
            expect(AcquireLeaderKey.class, Promote.class)),
        row("the operator's data loss is recorded in history",
            node("n2").primaryRunning(2, "0/4000100").holdingKey().topology(1, "n1", 1).timelineSwitch(1, "0/4000000")
                .lastPrimaryPosition(1, "0/5000000").switchover(new Switchover("n1", "n2", null, true, true)),
            expect(WriteTopology.class, ClearSwitchover.class).where(WriteTopology.class, a -> {
              assertThat(a.history().kind()).isEqualTo("failover");
              assertThat(a.history().reason()).contains("allow_data_loss").contains("0/5000000").contains("0/4000000");
            })),

        // ---- dynamic PostgreSQL parameters from /config ----
        row("a replica whose files lack a new dynamic parameter reloads",
            withLeaderN2(node("n1").replicaRunning(1, "0/5000000").streamingFrom("n2:5432"), 1)
                .parameters(Map.of("work_mem", "8MB")).appliedParameters(Map.of()),
            expect(Reload.class).where(Reload.class, a -> assertThat(a.reason()).contains("work_mem"))
                .requeue(LOOP_WAIT)),
        row("the primary reloads when a dynamic parameter is removed from /config",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1)
                .appliedParameters(Map.of("work_mem", "8MB")),
            expect(Reload.class).where(Reload.class, a -> assertThat(a.reason()).contains("work_mem"))),
        row("after an agent restart the rendered parameters are unknown: render and reload once",
            withLeaderN2(node("n1").replicaRunning(1, "0/5000000").streamingFrom("n2:5432"), 1)
                .parameters(Map.of("work_mem", "8MB")).appliedParameters(null),
            expect(Reload.class).summaryContains("not yet rendered")),
        row("parameters in effect: no reload, even with a restart pending (only the operator restarts)",
            withLeaderN2(node("n1").replicaRunning(1, "0/5000000").streamingFrom("n2:5432"), 1)
                .parameters(Map.of("shared_buffers", "32MB")).pendingRestart("shared_buffers"),
            noAction()),
        row("a changed parameter waits while a role action is due: demote first",
            node("n1").primaryRunning(1, "0/5000000").leaderKey("n2").member(member("n2").primary(1, "0/5000000"))
                .parameters(Map.of("work_mem", "8MB")).appliedParameters(Map.of()),
            expect(Demote.class)),
        row("a changed parameter with PostgreSQL stopped: the start renders it, no reload",
            withLeaderN2(node("n1").stopped(ControlState.SHUT_DOWN_IN_RECOVERY, 1, "0/5000000"), 1)
                .parameters(Map.of("work_mem", "8MB")).appliedParameters(Map.of()),
            expect(StartPostgres.class)),
        row("a changed parameter while etcd is unreachable: nothing (the config may be stale)",
            node("n1").replicaRunning(1, "0/5000000").etcdUnreachable("timeout")
                .parameters(Map.of("work_mem", "8MB")).appliedParameters(Map.of()),
            noAction()),
        row("a changed parameter while a base backup runs: wait for it",
            node("n1").noData().inFlight(InFlight.Kind.BASE_BACKUP, "n2").leaderKey("n2")
                .member(member("n2").primary(1, "0/5000000")).parameters(Map.of("work_mem", "8MB"))
                .appliedParameters(Map.of()),
            noAction()),
        row("paused: dynamic parameters still apply (a reload is no HA action)",
            node("n1").replicaRunning(1, "0/5000000").paused().topology(1, "n2", 1)
                .parameters(Map.of("work_mem", "8MB")).appliedParameters(Map.of()),
            expect(Reload.class)),

        // ---- pg_hba follows membership ----
        row("the primary allows replication from a new member's host: reload",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2")
                .member(member("n2").replica(1, "0/5000000")).appliedReplicationHosts(Set.of("127.0.0.1", "::1")),
            expect(Reload.class).where(Reload.class, a -> assertThat(a.reason()).contains("pg_hba"))),
        row("pg_hba already allows exactly the members' hosts: no reload",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2")
                .member(member("n2").replica(1, "0/5000000")),
            noAction()),
        row("a member with an unparsable conn_url adds no pg_hba line",
            node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2")
                .member(member("n2").replica(1, "0/5000000").connUrl("evil host\\nhost all all 0.0.0.0/0 trust:5432"))
                .appliedReplicationHosts(Set.of("127.0.0.1", "::1")),
            noAction()));
  }

  /** Synchronous mode on. */
  static Observations sync(Observations o) {
    return o.synchronousMode(SynchronousMode.ON);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("rows")
  void decides(Observation obs, Expect expect) {
    Decision d = DECIDER.decide(obs);
    assertThat(d.actions()).as(d.summary()).map(Object::getClass).containsExactlyElementsOf(expect.actions);
    for (Consumer<Decision> check : expect.checks) {
      check.accept(d);
    }
    assertThat(d.summary()).isNotBlank();
    // The loop never spins: it looks again at once only after an action that itself waits for PostgreSQL to be
    // done (a promotion; a switchover's stop, which returns once the postmaster is gone).
    assertThat(d.requeueAfter().isNegative()).as("requeue %s", d.requeueAfter()).isFalse();
    if (d.requeueAfter().isZero()) {
      assertThat(d.actions()).as("an at-once requeue after %s", d.summary())
          .anyMatch(a -> a instanceof Promote || a instanceof Demote dm && dm.mode() == DemoteMode.FAST
              && dm.reason().startsWith("switchover to "));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void isDeterministic(Observation obs, Expect ignored) {
    assertThat(DECIDER.decide(obs)).isEqualTo(DECIDER.decide(obs));
  }

  /** A new action must show up in the table, or be listed here with a reason. */
  @Test
  void everyActionAppearsInTheTable() {
    Set<Class<?>> expected = new HashSet<>();
    rows().forEach(a -> expected.addAll(((Expect) a.get()[1]).actions));
    Set<Class<?>> permitted = new HashSet<>(Arrays.asList(Action.class.getPermittedSubclasses()));
    assertThat(expected).containsExactlyInAnyOrderElementsOf(permitted);
  }

  @Test
  void onlyTheLockHolderPromotes() {
    // Every row whose decision promotes either holds the key or acquires it first in the same decision.
    rows().forEach(a -> {
      Observation obs = (Observation) ((Named<?>) a.get()[0]).getPayload();
      List<Action> actions = DECIDER.decide(obs).actions();
      int promote = indexOf(actions, Promote.class);
      if (promote >= 0) {
        boolean holds = obs.cluster().isLeader(obs.me()) && obs.lease().valid()
            && obs.cluster().leader().leaseId() == obs.lease().leaseId();
        int acquire = indexOf(actions, AcquireLeaderKey.class);
        assertThat(holds || (acquire >= 0 && acquire < promote)).as(((Named<?>) a.get()[0]).getName()).isTrue();
      }
    });
  }

  @Test
  void aLongLeaderlessPeriodNeverMakesAnIneligibleNodePromote() {
    for (long seconds : new long[] {0, 1, 3, 10, 60, 3600}) {
      Observation obs = node("n1").replicaRunning(1, "0/9000000").topology(2, "n2", 2)
          .leaderAbsentFor(ofSeconds(seconds)).build();
      assertThat(DECIDER.decide(obs).actions()).isEmpty();
    }
  }

  /**
   * What the observer times: the members on their way, each with its states, which only say why (the
   * observer times a member, whatever its states, so a member that moves on keeps its time).
   */
  @Test
  void standbysOnTheirWayAreKeyedByMemberWithTheirStates() {
    Observations holder = sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1));
    assertThat(onTheirWay(holder.member(member("n2").replica(1, "0/5000000").state("creating replica"))))
        .containsExactly(Map.entry("n2", List.of("creating replica")));
    assertThat(onTheirWay(sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1))
        .member(member("n2").replica(1, "0/5000000").notStreaming())
        .member(member("n3").stoppedAt(1, "0/5000000").systemId(null))
        .member(member("n4").stoppedAt(1, "0/5000000").state("rewinding"))))
        .containsExactly(Map.entry("n2", List.of("not streaming from me")), Map.entry("n3", List.of("without data")),
            Map.entry("n4", List.of("rewinding")));
    assertThat(onTheirWay(sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1)
        .pgSyncStandbys("n2")).member(member("n2").replica(1, "0/5000000"))))
        .containsExactly(Map.entry("n2", List.of("waited for by PostgreSQL")));
    assertThat(onTheirWay(sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1)
        .pgSyncStandbys("n2")).member(member("n2").replica(1, "0/5000000").notStreaming())))
        .as("one member, two states").containsExactly(Map.entry("n2", List.of("not streaming from me",
            "waited for by PostgreSQL")));
    // Gone once it is recorded, and nobody is on the way unless this node is the recorded primary with the key.
    assertThat(onTheirWay(sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1, "n2")
        .pgSyncStandbys("n2")).member(member("n2").replica(1, "0/5000000"))
        .member(member("n3").replica(1, "0/5000000").notStreaming()))).isEmpty();
    assertThat(onTheirWay(sync(node("n1").replicaRunning(1, "0/5000000").leaderKey("n2").topology(1, "n2", 1))
        .member(member("n3").replica(1, "0/5000000").notStreaming()))).isEmpty();
    assertThat(onTheirWay(sync(node("n1").primaryRunning(2, "0/5000000").holdingKey().topology(1, "n2", 1))
        .member(member("n3").replica(1, "0/5000000").notStreaming()))).isEmpty();
    assertThat(onTheirWay(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1)
        .member(member("n2").replica(1, "0/5000000").notStreaming()))).as("asynchronous").isEmpty();
  }

  /**
   * The decider paces the holder by the standbys the observation carries, as the observer worked them out
   * and timed them in the tick, and does not work them out again from the cluster view.
   */
  @Test
  void theHolderIsPacedByTheStandbysOnTheirWayTheObservationCarries() {
    Observation joining = sync(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1).slots("n2"))
        .member(member("n2").replica(1, "0/5000000").notStreaming()).onItsWayFor("n2", ofSeconds(3)).build();
    assertThat(joining.standbysOnTheirWay())
        .containsExactly(new StandbyOnItsWay("n2", List.of("not streaming from me"), ofSeconds(3)));
    assertThat(DECIDER.decide(joining).requeueAfter()).isEqualTo(ofMillis(500));

    Decision none = DECIDER.decide(withStandbysOnTheirWay(joining, List.of()));
    assertThat(none.requeueAfter()).isEqualTo(LOOP_WAIT);
    assertThat(none.summary()).doesNotContain("on its way");
    Decision old = DECIDER.decide(withStandbysOnTheirWay(joining,
        List.of(new StandbyOnItsWay("n2", List.of("not streaming from me"), ofSeconds(31)))));
    assertThat(old.requeueAfter()).isEqualTo(LOOP_WAIT);
    assertThat(old.summary()).contains("for over 30 s [n2: not streaming from me]");
  }

  private static Observation withStandbysOnTheirWay(Observation o, List<StandbyOnItsWay> onTheirWay) {
    return new Observation(o.me(), o.tags(), o.cluster(), o.local(), o.lease(), o.inFlight(), o.leaderAbsentFor(),
        o.leaderAbsentSince(), o.lastPrimaryPosition(), o.rewindFailed(), o.request(), o.now(), onTheirWay);
  }

  private static Map<String, List<String>> onTheirWay(Observations o) {
    Observation obs = o.build();
    return Decider.standbysOnTheirWay(obs.cluster(), obs.local(), obs.me());
  }

  @Test
  void aRunningPrimaryWithoutTimelineDoesNotCrashTheDecider() {
    Observation obs = node("n1").primaryRunning(2, "0/5000000").timeline(null).holdingKey().build();
    assertThatCode(() -> DECIDER.decide(obs)).doesNotThrowAnyException();
  }

  private static int indexOf(List<Action> actions, Class<? extends Action> type) {
    for (int i = 0; i < actions.size(); i++) {
      if (type.isInstance(actions.get(i))) {
        return i;
      }
    }
    return -1;
  }
  /**
   * A request the REST API accepted stays pending while the agent cannot act on it (etcd unreachable, a
   * base backup running, its own state unreadable), and is cleared only by the decision that carries it out.
   */
  @Test
  void aRequestStaysPendingUntilADecisionCarriesItOut() {
    Observations replica = withLeaderN2(node("n1").replicaRunning(1, "0/3000000").streamingFrom("n2:5432"), 1);
    assertThat(DECIDER.decide(replica.request(OperatorRequest.RESTART).build()).requestTaken()).isTrue();
    assertThat(DECIDER.decide(withLeaderN2(node("n1").replicaRunning(1, "0/3000000"), 1)
        .request(OperatorRequest.RESTART).etcdUnreachable("timeout").build()).requestTaken()).isFalse();
    assertThat(DECIDER.decide(withLeaderN2(node("n1").replicaRunning(1, "0/3000000"), 1)
        .request(OperatorRequest.REINIT).inFlight(InFlight.Kind.BASE_BACKUP, "n2").build()).requestTaken()).isFalse();
    assertThat(DECIDER.decide(withLeaderN2(node("n1").localUnknown("connection refused", true), 1)
        .request(OperatorRequest.RELOAD).build()).requestTaken()).isFalse();
    // Refused is answered, too: it does not wait for a later tick.
    assertThat(DECIDER.decide(node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1)
        .request(OperatorRequest.REINIT).build()).requestTaken()).isTrue();
  }
}
