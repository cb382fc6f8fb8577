package io.pgwarden.common.decide;

import io.pgwarden.common.decide.Action.AcquireLeaderKey;
import io.pgwarden.common.decide.Action.ClearSwitchover;
import io.pgwarden.common.decide.Action.ReleaseLeaderKey;
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
import io.pgwarden.common.decide.Action.Rewind;
import io.pgwarden.common.decide.Action.StartMode;
import io.pgwarden.common.decide.Action.StartPostgres;
import io.pgwarden.common.decide.Action.WriteTopology;
import io.pgwarden.common.decide.FailoverRanking.Candidate;
import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.DataDirState;
import io.pgwarden.common.model.HistoryEntry;
import io.pgwarden.common.model.InFlight;
import io.pgwarden.common.model.LeaderRecord;
import io.pgwarden.common.model.LocalPgState;
import io.pgwarden.common.model.Lsn;
import io.pgwarden.common.model.Member;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Observation;
import io.pgwarden.common.model.OperatorRequest;
import io.pgwarden.common.model.Switchover;
import io.pgwarden.common.model.SynchronousMode;
import io.pgwarden.common.model.Role;
import io.pgwarden.common.model.StandbyOnItsWay;
import io.pgwarden.common.model.Topology;
import io.pgwarden.common.model.TimelineSwitch;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The pure decision function: one {@link Observation} in, one {@link Decision} out. No I/O, no
 * clock, no threads; the same observation always gives the same decision.
 *
 * <p>The steps, in order: fatal checks; etcd unreachable; an action in flight; maintenance mode; an
 * empty data directory; PostgreSQL down; no leader; I hold the key; I follow.
 */
public final class Decider {
  private static final Duration FRESHNESS_POLL = Duration.ofMillis(200);
  // A new primary records its timeline at once: followers wait for that record before they re-point, and in
  // synchronous mode every commit waits for it. Nothing is to be waited for: the promotion has ended when its
  // action returns (PostgresNode#promote), so the next tick runs without a pause.
  private static final Duration AFTER_PROMOTE = Duration.ZERO;
  // Likewise a switchover's stop: its action returns only once the postmaster is gone (PostgresNode#stop), and
  // the walsenders have sent the shutdown checkpoint to the streaming standbys before it exits, so the tick that
  // publishes the final position and hands the lock over runs at once.
  private static final Duration AFTER_HANDOVER_STOP = Duration.ZERO;
  // Replicas' status rewrites do not wake the lock holder (WatchedScope.KeyChange#wakesLoop).
  // JOINING_POLL costs a probe and a lease renewal each time, so it lasts only for a standby's first
  // StandbyWays.HURRY_FOR on its way, timed per member by StandbyWays.
  private static final Duration JOINING_POLL = Duration.ofMillis(500);
  private static final String UNPARSABLE_VALUES = "unparsable values in etcd";
  private static final String UNBOUND_KEY = " (the key is bound to no lease, so no agent wrote it: it never expires;"
      + " delete it to let the cluster elect a leader)";
  private static final String UNBOUND_KEY_NAMING_ME = "the leader key names me but is bound to no lease, so no agent"
      + " wrote it (etcdctl put by hand?): not taking it as mine, which would promote me unranked; delete it to let"
      + " the cluster elect a leader";
  private final DecisionPolicy policy;

  public Decider(DecisionPolicy policy) {
    this.policy = policy;
  }

  public Decision decide(Observation obs) {
    return withParameterReload(obs, decideRole(obs));
  }

  /**
   * After the role steps: when they have nothing to do, bring the dynamic PostgreSQL parameters from
   * {@code /config} into effect. Level-triggered: the observation says which parameters the config
   * files last rendered; while they differ from the wanted ones (or are unknown, after an agent
   * restart) the files are rendered again and PostgreSQL reloaded. Settings that need a restart show
   * up afterwards as {@code pending_restart}; only an operator's restart applies them. The same for
   * pg_hba.conf: replication is allowed from the members' hosts only, so it follows membership.
   */
  private Decision withParameterReload(Observation obs, Decision d) {
    LocalPgState local = obs.local();
    if (!d.isNoAction() || !obs.cluster().reachable() || obs.inFlight() != null || obs.request() != null
        || !local.running() || local.isUnknown()) {
      return d;
    }
    if (!obs.config().parameters().equals(local.appliedParameters())) {
      String what = local.appliedParameters() == null ? "not yet rendered by this agent"
          : "changed: " + changedParameters(obs.config().parameters(), local.appliedParameters());
      return Decision.act(d.summary() + "; reloading: dynamic parameters " + what, d.requeueAfter(),
          new Reload("dynamic parameters " + what));
    }
    Set<String> hosts = ReplicationHosts.wanted(obs.cluster());
    if (!hosts.equals(local.appliedReplicationHosts())) {
      String what = "replication allowed from " + hosts;
      return Decision.act(d.summary() + "; reloading: pg_hba " + what, d.requeueAfter(),
          new Reload("pg_hba: " + what));
    }
    return d;
  }

  private static Set<String> changedParameters(java.util.Map<String, String> want, java.util.Map<String, String> have) {
    Set<String> out = new TreeSet<>();
    want.forEach((k, v) -> {
      if (!v.equals(have.get(k))) {
        out.add(k);
      }
    });
    have.keySet().stream().filter(k -> !want.containsKey(k)).forEach(out::add);
    return out;
  }

  private Decision decideRole(Observation obs) {
    ClusterView c = obs.cluster();
    LocalPgState local = obs.local();
    Duration loopWait = obs.config().loopWaitDuration();

    // 1. fatal checks
    if (c.reachable()
        && c.initialize() != null
        && !c.initialize().isEmpty()
        // a value written by hand is no identifier (the view reports it): never a reason to stop PostgreSQL
        && c.initialize().chars().allMatch(ch -> ch >= '0' && ch <= '9')
        && local.systemId() != null
        && !c.initialize().equals(local.systemId())) {
      return Decision.act(
          "halting: data directory has system identifier " + local.systemId() + " but cluster has " + c.initialize(),
          loopWait,
          new Halt("system identifier mismatch: data directory " + local.systemId() + ", cluster " + c.initialize()));
    }
    if (local.isUnknown()) {
      return unknownLocalState(obs);
    }
    // 2. etcd unreachable: only the lease deadline counts
    if (!c.reachable()) {
      return etcdUnreachable(obs);
    }
    // 3. a long action in flight
    if (obs.inFlight() != null) {
      return Decision.noAction(
          "waiting: " + obs.inFlight().kind().state() + " from " + obs.inFlight().source() + " in progress",
          policy.shortWait());
    }
    if (obs.request() != null) {
      return request(obs).takingRequest();
    }
    if (c.config().paused()) {
      return paused(obs);
    }
    // 4. nothing on disk
    if (local.dataDir() != DataDirState.VALID) {
      return noData(obs);
    }
    // 5. PostgreSQL down
    if (!local.running()) {
      return stopped(obs);
    }
    // 6. no leader
    if (!c.hasLeader()) {
      return leaderless(obs);
    }
    // 7. I hold the key
    if (c.isLeader(obs.me())) {
      return holder(obs);
    }
    // 8. I follow
    return follower(obs);
  }

  private Decision unknownLocalState(Observation obs) {
    String why = obs.local().probeError() != null ? obs.local().probeError() : "data directory state unknown";
    if (obs.cluster().isLeader(obs.me()) && obs.lease().valid()) {
      if (obs.cluster().leader().leaseId() != obs.lease().leaseId() && !mayRebind(obs)) {
        return Decision.noAction("cannot read local PostgreSQL state (" + why + "); " + UNBOUND_KEY_NAMING_ME,
            policy.shortWait());
      }
      if (obs.cluster().leader().leaseId() != obs.lease().leaseId()) {
        // The key is still bound to the lease of my previous run, which nobody renews.
        return Decision.act("cannot read local PostgreSQL state (" + why + "); rebinding my leader key to my lease",
            policy.shortWait(), new AcquireLeaderKey("rebind after restart"));
      }
      return Decision.noAction("cannot read local PostgreSQL state (" + why + "); holding the lock, retrying", policy.shortWait());
    }
    if (obs.local().postmasterAlive() && obs.local().controlState() == io.pgwarden.common.model.ControlState.IN_ARCHIVE_RECOVERY) {
      // A standby takes no writes; stopped, it would be started again by the next tick and stopped once more.
      return Decision.noAction("cannot read local PostgreSQL state (" + why + "); its pg_control says it runs as a"
          + " standby, which takes no writes: leaving it running", policy.shortWait());
    }
    if (obs.local().postmasterAlive()) {
      return Decision.act(
          "demoting: cannot read local PostgreSQL state (" + why + ") and I do not hold the lock",
          policy.shortWait(),
          new Demote(DemoteMode.FAST, false, "local state unreadable without the lock"));
    }
    return Decision.noAction("cannot read local PostgreSQL state (" + why + "); waiting", policy.shortWait());
  }

  private Decision etcdUnreachable(Observation obs) {
    String why = "etcd unreachable (" + obs.cluster().unreachableReason() + ")";
    if (obs.local().runningAsPrimary()) {
      if (obs.lease().valid() && !obs.config().paused()) {
        Duration left = obs.lease().remaining();
        return Decision.noAction(
            why + "; lease valid for " + left.toMillis() + " ms more, staying primary",
            min(policy.shortWait(), left));
      }
      if (obs.config().paused()) {
        return Decision.noAction(why + "; paused, keeping PostgreSQL as it is", policy.shortWait());
      }
      return Decision.act(
          "demoting: " + why + " and the lease deadline has passed",
          policy.shortWait(),
          new Demote(DemoteMode.IMMEDIATE, false, "lease deadline passed while etcd was unreachable"));
    }
    return Decision.noAction(why + "; not primary, waiting", policy.shortWait());
  }

  private Decision paused(Observation obs) {
    ClusterView c = obs.cluster();
    LocalPgState local = obs.local();
    if (local.runningAsPrimary() && obs.lease().valid()) {
      if (c.isLeader(obs.me()) && c.leader().leaseId() != obs.lease().leaseId() && mayRebind(obs)) {
        return Decision.act("paused: rebinding my leader key to my lease", obs.config().loopWaitDuration(),
            new AcquireLeaderKey("rebind after restart (paused)"));
      }
      if (!c.hasLeader() && mayReclaim(obs)) {
        return Decision.act("paused: primary without the lock, taking it", obs.config().loopWaitDuration(),
            new AcquireLeaderKey("primary without lock (paused)"));
      }
    }
    String role = !local.running() ? "PostgreSQL stopped" : local.inRecovery() ? "replica" : "primary";
    return Decision.noAction("paused: no automatic action (" + role + ")", obs.config().loopWaitDuration());
  }

  private Decision noData(Observation obs) {
    ClusterView c = obs.cluster();
    Duration wait = policy.shortWait();
    if (c.initialize() == null) {
      if (!obs.tags().canFailover()) {
        return Decision.noAction("no data and the cluster is not initialised; nofailover, so not bootstrapping", wait);
      }
      return Decision.act("bootstrapping: cluster not initialised and my data directory is empty", wait,
          new Bootstrap("no /initialize key"));
    }
    Optional<String> source = cloneSource(obs);
    if (source.isPresent()) {
      return Decision.act("creating replica: base backup from " + source.get(), wait,
          new Rebuild(source.get(), "data directory " + obs.local().dataDir().name().toLowerCase()));
    }
    return Decision.noAction("no data; waiting for a running leader to clone from", wait);
  }

  private Decision stopped(Observation obs) {
    ClusterView c = obs.cluster();
    LocalPgState local = obs.local();
    Duration wait = policy.shortWait();
    if (local.postmasterAlive() && local.controlState() == io.pgwarden.common.model.ControlState.STARTING_UP) {
      return Decision.noAction("PostgreSQL is starting up (recovering); it accepts no connections yet, waiting", wait);
    }
    if (obs.rewindFailed()) {
      // A pg_rewind that stopped part-way (its source died, the agent crashed) can leave files of two
      // histories behind while pg_control still looks intact: this directory is never started again,
      // not even read-only without a leader; only a complete copy from a running primary replaces it.
      Optional<String> source = cloneSource(obs);
      if (source.isPresent()) {
        return Decision.act("rebuilding: pg_rewind of this data directory did not complete; base backup from "
            + source.get(), wait, new Rebuild(source.get(), "pg_rewind did not complete"));
      }
      return Decision.noAction("PostgreSQL stopped; pg_rewind of this data directory did not complete, so it is"
          + " not started; waiting for a running primary to clone from", wait);
    }
    if (c.isLeader(obs.me()) && obs.lease().valid()) {
      if (c.leader().leaseId() != obs.lease().leaseId() && !mayRebind(obs)) {
        return Decision.noAction("PostgreSQL stopped; " + UNBOUND_KEY_NAMING_ME, wait);
      }
      if (c.leader().leaseId() != obs.lease().leaseId()) {
        // The key is still bound to the lease of my previous run, which nobody renews: it may vanish
        // and be taken by another node while I start writable.
        return Decision.act("rebinding the leader key to my lease before starting PostgreSQL", wait,
            new AcquireLeaderKey("rebind after restart"));
      }
      Optional<String> handTo = switchoverTarget(obs);
      Optional<String> refusal = switchoverRefusal(obs);
      if (handTo.isPresent() && refusal.isPresent()) {
        return Decision.act("switchover to " + handTo.get() + " dropped: etcd holds values no candidate would promote on ("
            + refusal.get() + ")", wait, new ClearSwitchover(UNPARSABLE_VALUES));
      }
      if (handTo.isPresent()) {
        if (local.controlState() != io.pgwarden.common.model.ControlState.SHUT_DOWN
            && (c.topology() == null || !c.topology().syncStandbys().contains(handTo.get()))) {
          // Not a clean shutdown (the fast stop escalated, or PostgreSQL crashed): the position we publish
          // is the last checkpoint's, possibly far short of what we acknowledged, so a target checked
          // against it could lack commits. Only a recorded synchronous standby is sure to hold them all.
          return Decision.act("switchover to " + handTo.get() + " dropped: PostgreSQL did not shut down cleanly ("
              + local.controlState().text() + ") and " + handTo.get() + " is not a recorded synchronous standby",
              wait, new ClearSwitchover("old primary not shut down cleanly"));
        }
        // Our final WAL position is published (this tick) before the key goes: the candidate promotes
        // only once it has received all of it.
        return Decision.act("switchover: PostgreSQL stopped, handing the lock to " + handTo.get(), wait,
            new ReleaseLeaderKey("switchover to " + handTo.get()));
      }
      if (local.controlState().lastRanAsPrimary() && onLatestTimeline(obs)) {
        return Decision.act("starting as primary: I hold the lock", wait,
            new StartPostgres(StartMode.PRIMARY, null, "holding the lock"));
      }
      return Decision.act("starting as replica before promotion: I hold the lock", wait,
          new StartPostgres(StartMode.REPLICA, null, "holding the lock, data last ran as replica"));
    }
    if (!c.hasLeader() || c.isLeader(obs.me())) {
      // Read-only first: a node becomes writable only through the lock and a promote.
      return Decision.act("starting as replica: no leader, joining the election read-only", wait,
          new StartPostgres(StartMode.REPLICA, null, "no leader"));
    }
    String leader = c.leader().holder();
    MemberStatus ls = c.member(leader);
    if (ls == null || !ls.isRunning() || ls.connUrl() == null) {
      return Decision.noAction("PostgreSQL stopped; waiting for leader " + leader + " to be running", wait);
    }
    if (local.controlState().lastRanAsPrimary() && c.topology() != null && obs.me().equals(c.topology().primary())) {
      // The topology still names me: the new leader has not promoted and recorded its timeline yet.
      // Rewinding from it now would copy a standby, and following could miss the fork. (Judged by
      // the record, not by timeline numbers: a forced promotion of a stale node may reuse one.)
      return Decision.noAction("PostgreSQL stopped; waiting for leader " + leader + " to record its new timeline",
          wait);
    }
    if (ls.timeline() != null && ls.timeline() > c.latestTimeline()) {
      // Whether we must rewind depends on where its timeline forked; it records that right after promoting.
      return Decision.noAction("PostgreSQL stopped; waiting for leader " + leader + " to record timeline "
          + ls.timeline(), wait);
    }
    if (local.controlState().lastRanAsPrimary() && local.timeline() != null && ls.timeline() != null
        && local.timeline() >= ls.timeline()) {
      // The leader is not on a newer timeline than my own history (a forced promotion of a stale node
      // can reuse a timeline number): pg_rewind cannot tell the two histories apart, a clone can.
      return Decision.act("rebuilding from " + leader + ": my timeline " + local.timeline()
          + " is not older than its " + ls.timeline() + ", so pg_rewind cannot be trusted", wait,
          new Rebuild(leader, "timeline number reused"));
    }
    if ((local.controlState().lastRanAsPrimary() && !shutDownBeforeFork(obs)) || diverged(obs)) {
      if (obs.rewindFailed()) {
        return Decision.act("rebuilding: pg_rewind from " + leader + " failed", wait,
            new Rebuild(leader, "pg_rewind failed"));
      }
      String why = local.controlState().lastRanAsPrimary()
          ? "data last ran as primary (" + local.controlState().text() + ")"
          : "timeline " + local.timeline() + " diverged at " + c.switchPointOf(local.timeline());
      return Decision.act("rewinding from " + leader + ": " + why, wait, new Rewind(leader, why));
    }
    return Decision.act("starting as replica of " + leader, wait,
        new StartPostgres(StartMode.REPLICA, leader, "following the lock holder"));
  }

  private Decision leaderless(Observation obs) {
    LocalPgState local = obs.local();
    Duration wait = policy.shortWait();
    if (local.runningAsPrimary()) {
      if (obs.lease().valid() && mayReclaim(obs)) {
        return Decision.act("acquiring leader key: I am the recorded primary and the key is free", wait,
            new AcquireLeaderKey("primary without lock"));
      }
      return Decision.act("demoting: running as primary without the lock and not the recorded primary", wait,
          new Demote(DemoteMode.IMMEDIATE, false, "primary without lock"));
    }
    if (!obs.tags().canFailover()) {
      return Decision.noAction("no leader; nofailover, not competing", wait);
    }
    if (!obs.cluster().errors().isEmpty()) {
      // A status we cannot parse may belong to a healthier candidate: never promote on a guess.
      return Decision.noAction("no leader; not competing while etcd holds values I cannot parse: "
          + String.join("; ", obs.cluster().errors()), wait);
    }
    MemberStatus self = selfStatus(obs);
    Duration absentSoFar = obs.leaderAbsentFor() == null ? Duration.ZERO : obs.leaderAbsentFor();
    Switchover sw = obs.cluster().switchover();
    String handingOver = sw == null ? null
        : sw.from() != null ? sw.from() : obs.cluster().topology() == null ? null : obs.cluster().topology().primary();
    if (sw != null && !sw.force() && obs.me().equals(handingOver) && absentSoFar.compareTo(policy.candidateGrace()) < 0) {
      return Decision.noAction("no leader; I am handing over in a switchover, not competing", wait);
    }
    if (sw != null && sw.to() != null) {
      if (sw.to().equals(obs.me())) {
        Decision d = switchoverCandidate(obs, sw, self);
        if (d != null) {
          return d;
        }
      } else if (absentSoFar.compareTo(policy.candidateGrace()) < 0) {
        return Decision.noAction("no leader; " + (sw.force() ? "failover" : "switchover") + " to " + sw.to()
            + " in progress, waiting for it", wait);
      }
    }
    Optional<String> why = FailoverRanking.ineligibility(self, obs.cluster());
    if (why.isPresent()) {
      return Decision.noAction("no leader; not eligible for promotion: " + why.get(), wait);
    }
    List<Candidate> ranked = FailoverRanking.rank(obs, self);
    int rank = indexOf(ranked, obs.me());
    if (rank < 0) {
      return Decision.noAction("no leader; not eligible for promotion: lag beyond maximum_lag_on_failover", wait);
    }
    Duration absent = obs.leaderAbsentFor() == null ? Duration.ZERO : obs.leaderAbsentFor();
    if (rank == 0) {
      boolean othersFresh = ranked.stream().allMatch(cand -> cand.modRevision() > obs.leaderAbsentSince());
      if (!othersFresh && absent.compareTo(policy.freshnessGrace()) < 0) {
        // Their statuses do not wake us (member keys change every tick), so look again soon.
        return Decision.noAction("no leader; I look healthiest, waiting for the others to publish their WAL positions",
            FRESHNESS_POLL);
      }
      return Decision.act("promoting: leader key free and I am the healthiest replica at " + self.position(), AFTER_PROMOTE,
          promotion(obs, new AcquireLeaderKey("healthiest replica"), new Promote("failover: leader key expired")));
    }
    Candidate best = ranked.get(0);
    Duration allowed = policy.candidateGrace().multipliedBy(rank);
    if (absent.compareTo(allowed) >= 0) {
      return Decision.act(
          "promoting: " + best.name() + " is healthier but has not taken over within " + allowed.toSeconds() + " s",
          AFTER_PROMOTE, promotion(obs, new AcquireLeaderKey("healthier candidate absent"),
              new Promote("failover: candidates ahead of me idle")));
    }
    return Decision.noAction("no leader; waiting for healthier " + best.name() + " at " + best.position()
        + " (I am at " + self.position() + ")", wait);
  }

  private Decision holder(Observation obs) {
    ClusterView c = obs.cluster();
    LocalPgState local = obs.local();
    LeaderRecord leader = c.leader();
    Duration loopWait = obs.config().loopWaitDuration();
    if (!obs.lease().valid()) {
      if (local.runningAsPrimary()) {
        return Decision.act("demoting: my lease deadline has passed", policy.shortWait(),
            new Demote(DemoteMode.IMMEDIATE, true, "lease deadline passed"));
      }
      return Decision.noAction("the key names me but my lease is not valid; waiting", policy.shortWait());
    }
    if (leader.leaseId() != obs.lease().leaseId() && !mayRebind(obs)) {
      return Decision.noAction(UNBOUND_KEY_NAMING_ME, policy.shortWait());
    }
    if (leader.leaseId() != obs.lease().leaseId()) {
      return Decision.act("rebinding the leader key to my lease (agent restarted, or a new lease for a new ttl)",
          policy.shortWait(),
          new AcquireLeaderKey("rebind after restart"));
    }
    Duration next = min(loopWait, obs.lease().remaining());
    if (local.runningAsReplica()) {
      return Decision.act("promoting: I hold the lock", AFTER_PROMOTE, promotion(obs, new Promote("holding the lock")));
    }
    if (local.timeline() == null) {
      return Decision.noAction("primary with the lock, but my timeline is unknown; not writing topology", policy.shortWait());
    }
    Topology t = c.topology();
    if (t == null || !t.primary().equals(obs.me()) || t.timeline() != local.timeline()) {
      // Terms only grow: above the topology's and every term recorded in history (the topology
      // key may have been lost while history survived).
      long term = t == null ? 0 : t.term();
      for (HistoryEntry past : c.history()) {
        term = Math.max(term, past.term());
      }
      term++;
      Topology next1 = new Topology(term, obs.me(), local.timeline(), List.of());
      Switchover sw = c.switchover();
      boolean mine = sw != null && obs.me().equals(sw.to());
      // Without a topology but with history (the key deleted or unreadable), the last recorded primary stands
      // in for it: recording myself again is no bootstrap.
      String recorded = t != null ? t.primary() : lastRecordedPrimary(c);
      String kind = recorded == null ? "bootstrap" : recorded.equals(obs.me()) ? "restart"
          : mine && !sw.force() ? "switchover" : "failover";
      Lsn switchLsn = null;
      for (TimelineSwitch s : local.history()) {
        if (s.parent() == local.timeline() - 1) {
          switchLsn = s.switchLsn();
        }
      }
      String reason = kind + " to " + obs.me();
      if (mine && sw.allowDataLoss()) {
        reason += " forced with allow_data_loss: last known primary position "
            + (obs.lastPrimaryPosition() == null ? "unknown" : obs.lastPrimaryPosition()) + ", promoted at "
            + (switchLsn == null ? "unknown" : "TL" + (local.timeline() - 1) + "@" + switchLsn)
            + "; WAL between them is lost";
      } else if (mine && sw.force()) {
        reason += " forced by operator";
      }
      HistoryEntry h = new HistoryEntry(term, kind, recorded, obs.me(), local.timeline(),
          switchLsn, null, reason);
      String summary = "writing topology term " + term + ": " + obs.me() + " is primary on timeline " + local.timeline();
      List<Action> actions = new ArrayList<>(List.of(new WriteTopology(next1, h)));
      if (local.holdsCommitsForTopology()) {
        // The promotion held commits until this record (ActionExecutor); once it is written, and not before
        // (actions stop at the first failure), they go through — ahead of clearing a switchover request,
        // whose failure must not keep them waiting. Standbys are set as they stream from me; in strict mode
        // any standby may acknowledge until then, as with no healthy one.
        boolean strict = c.config().synchronousMode() == SynchronousMode.STRICT;
        actions.add(new SetSyncStandbys(strict ? List.of("*") : List.of(), c.config().synchronousNodeCount(),
            c.config().synchronousMode().json()));
        summary += "; then releasing the commits the promotion held";
      }
      if (mine) {
        actions.add(new ClearSwitchover(kind + " done"));
      }
      return new Decision(actions, policy.shortWait(), summary);
    }
    if (c.switchover() != null) {
      Decision d = handOver(obs, c.switchover(), next);
      if (d != null) {
        return d;
      }
    }
    Set<String> slots = memberSlots(c, obs.me());
    boolean slotsDiffer = !slots.equals(local.slots());
    Decision sync = synchronousStandbys(obs, t, next);
    if (sync != null) {
      if (!slotsDiffer) {
        return sync;
      }
      // Not a tick later: a returning node's walreceiver connects about a second after its PostgreSQL
      // starts, and without its slot it retries only after wal_retrieve_retry_interval (1 s as pgwarden sets it, up to 5 s as an operator may); the
      // synchronous-standby work a return sets off would otherwise hold the slot back by a loop_wait.
      // After the synchronous-standby action, so that a failing slot operation cannot delay it.
      List<Action> actions = new ArrayList<>(sync.actions());
      actions.add(new EnsureSlots(slots));
      return new Decision(actions, sync.requeueAfter(), sync.summary() + "; syncing replication slots " + slots);
    }
    // As the observer worked it out for this observation, with the ages it keeps.
    List<String> onTheirWay = describe(obs.standbysOnTheirWay());
    boolean hurry = StandbyWays.hurries(obs.standbysOnTheirWay());
    Duration pace = hurry ? min(next, JOINING_POLL) : next;
    if (slotsDiffer) {
      return Decision.act("no action: primary with the lock; syncing replication slots " + slots, pace,
          new EnsureSlots(slots));
    }
    String standbys = onTheirWay.isEmpty() ? ""
        : hurry ? "; a standby is on its way, looking again in " + pace.toMillis() + " ms"
        : "; a standby is on its way but has been for over " + StandbyWays.HURRY_FOR.toSeconds() + " s " + onTheirWay
            + ", looking again in " + pace.toMillis() + " ms";
    return Decision.noAction("no action: I am (" + obs.me() + ") the primary with the lock" + standbys, pace);
  }

  private Decision follower(Observation obs) {
    ClusterView c = obs.cluster();
    LocalPgState local = obs.local();
    String leader = c.leader().holder();
    Duration loopWait = obs.config().loopWaitDuration();
    if (local.runningAsPrimary()) {
      return Decision.act("demoting: " + leader + " holds the lock but I run as primary"
          + (c.leader().leaseId() == 0 ? UNBOUND_KEY : ""), policy.shortWait(),
          new Demote(DemoteMode.IMMEDIATE, false, leader + " holds the lock"));
    }
    MemberStatus ls = c.member(leader);
    // A replica streaming from the leader cannot have diverged: PostgreSQL checked the timeline
    // history itself when it connected.
    boolean streamsFromLeader = local.streaming() && ls != null && ls.connUrl() != null
        && ls.connUrl().equals(local.upstream());
    if (!streamsFromLeader && diverged(obs)) {
      return Decision.act("stopping to rewind: timeline " + local.timeline() + " diverged from " + leader,
          policy.shortWait(), new Demote(DemoteMode.FAST, false, "diverged timeline"));
    }
    if (ls == null || ls.connUrl() == null) {
      return Decision.noAction("replica; leader " + leader + " has not published where to connect", policy.shortWait());
    }
    if (!ls.connUrl().equals(local.upstream())) {
      return Decision.act("following new leader " + leader + " (was " + local.upstream() + ")", policy.shortWait(),
          new FollowLeader(leader, "lock holder changed"));
    }
    if (!local.streaming()) {
      return Decision.noAction("no action: replica of " + leader + ", not streaming yet", policy.shortWait());
    }
    Switchover sw = c.switchover();
    if (sw != null && !sw.force() && obs.me().equals(sw.to())) {
      // While the primary stops for it: then the promotion need not make them (promotion()).
      Set<String> missing = missingStandbySlots(obs);
      if (!missing.isEmpty()) {
        return Decision.act("switchover to me pending: making my standbys' replication slots " + missing
            + " ahead of it", policy.shortWait(), new MakeSlots(missing, "for my standbys, before a switchover to me"));
      }
    } else if (!local.slots().isEmpty()) {
      // Left from a term as primary, or made for a promotion that did not happen. Idle on a replica, a
      // slot keeps every WAL segment from its position on: pg_wal would grow until the disk is full.
      return Decision.act("dropping idle replication slots " + new TreeSet<>(local.slots())
          + ": on a replica they would keep WAL from being recycled", loopWait, new EnsureSlots(Set.of()));
    }
    return Decision.noAction("no action: streaming from the leader " + leader, loopWait);
  }

  /**
   * A promotion's actions, after making the slots its standbys will need where they are missing: they learn
   * of the new leader as the key is taken, and one whose first connection found no slot would try again only
   * after wal_retrieve_retry_interval — and until then could not be the new primary's synchronous standby.
   * Before the key, not after: about ten milliseconds here, a statement per slot (nothing when a pending
   * switchover made them).
   */
  private static Action[] promotion(Observation obs, Action... promote) {
    Set<String> missing = missingStandbySlots(obs);
    if (missing.isEmpty()) {
      return promote;
    }
    Action[] out = new Action[promote.length + 1];
    out[0] = new MakeSlots(missing, "for my standbys, before promoting");
    System.arraycopy(promote, 0, out, 1, promote.length);
    return out;
  }

  /** The slots I would keep as primary that my PostgreSQL does not have. */
  private static Set<String> missingStandbySlots(Observation obs) {
    if (!obs.cluster().reachable()) {
      return Set.of();
    }
    Set<String> missing = memberSlots(obs.cluster(), obs.me());
    missing.removeAll(obs.local().slots());
    return missing;
  }

  /**
   * The replication slots a primary {@code me} keeps: one per other live member. Live members only: a key
   * without a lease is nobody's, and its slot would retain WAL forever.
   */
  private static Set<String> memberSlots(ClusterView c, String me) {
    Set<String> slots = new TreeSet<>();
    for (Member m : c.liveMembers()) {
      if (!m.name().equals(me)) {
        slots.add(SlotNames.of(m.name()));
      }
    }
    return slots;
  }

  /**
   * Paused, nothing starts a stopped PostgreSQL again, so the restart is the stop and the start in one
   * decision, in the role it had: a replica of the lock holder (or of nobody, without one), and a primary
   * only while it holds the lock on a valid lease, which it keeps; a primary without them would come back
   * read-only, and in maintenance mode nothing would promote it again, so it is refused instead.
   */
  private Decision pausedRestart(Observation obs) {
    ClusterView c = obs.cluster();
    Duration wait = policy.shortWait();
    if (!obs.local().running()) {
      return Decision.noAction("restart requested but PostgreSQL is not running, and the cluster is paused:"
          + " nothing starts it until `pgwarden resume`", wait);
    }
    Demote stop = new Demote(DemoteMode.FAST, false, "restart requested (paused)");
    if (obs.local().runningAsPrimary()) {
      if (!c.isLeader(obs.me()) || !obs.lease().valid() || c.leader().leaseId() != obs.lease().leaseId()) {
        return Decision.noAction("restart refused: paused, and I run as primary without holding the lock on my lease,"
            + " so I could only come back read-only", wait);
      }
      return Decision.act("restarting PostgreSQL on request (paused): stopping and starting it as primary", wait,
          stop, new StartPostgres(StartMode.PRIMARY, null, "restart requested (paused), holding the lock"));
    }
    String upstream = c.hasLeader() && !c.isLeader(obs.me()) ? c.leader().holder() : null;
    if (upstream != null && (c.member(upstream) == null || c.member(upstream).connUrl() == null)) {
      // Stopped first, it would not start again: the start needs the address to follow.
      return Decision.noAction("restart refused: paused, and the leader " + upstream
          + " has published no connection address to follow after the restart", wait);
    }
    return Decision.act("restarting PostgreSQL on request (paused): stopping and starting it as replica"
        + (upstream == null ? " (no leader to follow)" : " of " + upstream), wait,
        stop, new StartPostgres(StartMode.REPLICA, upstream, "restart requested (paused)"));
  }

  /** The primary of the latest term the history records; null without history. */
  private static String lastRecordedPrimary(ClusterView c) {
    HistoryEntry last = null;
    for (HistoryEntry h : c.history()) {
      if (last == null || h.term() > last.term()) {
        last = h;
      }
    }
    return last == null ? null : last.to();
  }

  /**
   * Whether the leader key naming me may be bound to my lease. An agent always binds it to a lease, so one
   * bound to none was written by hand: taken as mine, it would promote me without the ranking (or the
   * synchronous standby record) that decides who may be promoted. Only the recorded primary, running as
   * primary, keeps such a key (it already is the primary).
   */
  private static boolean mayRebind(Observation obs) {
    if (obs.cluster().leader().leaseId() != 0) {
      return true;
    }
    Topology t = obs.cluster().topology();
    return t != null && t.primary().equals(obs.me()) && obs.local().runningAsPrimary();
  }

  /** An operator's request to this node; the loop clears it once decided. */
  private Decision request(Observation obs) {
    ClusterView c = obs.cluster();
    LocalPgState local = obs.local();
    Duration wait = policy.shortWait();
    OperatorRequest r = obs.request();
    switch (r) {
      case RELOAD:
        if (!local.running()) {
          return Decision.noAction("reload requested but PostgreSQL is not running; it gets the config when it starts", wait);
        }
        return Decision.act("reloading PostgreSQL on request", wait, new Reload("requested by operator"));
      case RESTART:
        if (c.config().paused()) {
          return pausedRestart(obs);
        }
        if (!local.running()) {
          return Decision.noAction("restart requested but PostgreSQL is not running; it will be started", wait);
        }
        // Stopped now, started again by the next tick in whatever role the lock says.
        return Decision.act("restarting PostgreSQL on request", wait,
            new Demote(DemoteMode.FAST, false, "restart requested"));
      case REINIT:
        String refusal = RequestRefusal.of(r, obs);
        if (refusal != null) {
          return Decision.noAction("reinit refused: " + refusal, wait);
        }
        Optional<String> source = cloneSource(obs);
        if (source.isEmpty()) {
          return Decision.noAction("reinit refused: no running primary to clone from", wait);
        }
        return local.running()
            ? Decision.act("reinitialising on request: base backup from " + source.get(), wait,
                new Demote(DemoteMode.FAST, false, "reinit requested"), new Rebuild(source.get(), "reinit requested"))
            : Decision.act("reinitialising on request: base backup from " + source.get(), wait,
                new Rebuild(source.get(), "reinit requested"));
      default:
        throw new IllegalStateException("unhandled request " + r);
    }
  }

  /**
   * The member a due switchover hands the lock to, when this node holds it and is the one to hand
   * over from; empty when there is none to act on now.
   */
  private Optional<String> switchoverTarget(Observation obs) {
    Switchover sw = obs.cluster().switchover();
    if (sw == null || (sw.from() != null && !sw.from().equals(obs.me())) || obs.me().equals(sw.to())) {
      return Optional.empty();
    }
    if (sw.scheduledAt() != null && obs.now().isBefore(Instant.parse(sw.scheduledAt()))) {
      return Optional.empty();
    }
    return sw.to() != null ? Optional.of(sw.to()) : bestHandOverTarget(obs);
  }

  /**
   * The unparsable etcd values that rule out a switchover now, or empty. No candidate promotes while
   * they last, so stopping writes or releasing the key would leave the cluster without a primary.
   */
  private static Optional<String> switchoverRefusal(Observation obs) {
    List<String> errors = obs.cluster().errors();
    return errors.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", errors));
  }

  /** A running primary with the lock and a pending switchover: stop writes, or drop the request. */
  private Decision handOver(Observation obs, Switchover sw, Duration next) {
    ClusterView c = obs.cluster();
    if (sw.from() != null && !sw.from().equals(obs.me())) {
      return Decision.act("clearing a switchover from " + sw.from() + ": I (" + obs.me() + ") hold the lock", next,
          new ClearSwitchover("it names " + sw.from() + " as the primary"));
    }
    if (obs.me().equals(sw.to())) {
      return Decision.act("clearing a switchover to myself: I am already the primary", next,
          new ClearSwitchover("target is already the primary"));
    }
    if (sw.scheduledAt() != null && obs.now().isBefore(Instant.parse(sw.scheduledAt()))) {
      return null;
    }
    Optional<String> refusal = switchoverRefusal(obs);
    if (refusal.isPresent()) {
      return Decision.act("switchover impossible while etcd holds values nobody can promote on ("
          + refusal.get() + "); clearing it", next, new ClearSwitchover(UNPARSABLE_VALUES));
    }
    Optional<String> target = sw.to() != null ? Optional.of(sw.to()) : bestHandOverTarget(obs);
    if (target.isEmpty()) {
      return Decision.act("switchover impossible: no healthy streaming replica; clearing it", next,
          new ClearSwitchover("no healthy replica"));
    }
    Member targetMember = c.members().get(target.get());
    if (targetMember != null && !targetMember.leaseBound()) {
      return Decision.act("switchover impossible: the member key of " + target.get()
          + " is not bound to a lease, so no live agent would take over; clearing it",
          next, new ClearSwitchover(target.get() + " not a live agent"));
    }
    if (!healthyReplicaOfMe(c.member(target.get()), obs)) {
      return Decision.act("switchover impossible: " + target.get() + " is not a healthy streaming replica; clearing it",
          next, new ClearSwitchover(target.get() + " not a healthy replica"));
    }
    // Fast stop: sessions are cut, and the walsenders wait until every streaming replica has the
    // shutdown checkpoint. The key is released by the next tick, after our final position is published.
    return Decision.act("switchover to " + target.get() + ": stopping writes", AFTER_HANDOVER_STOP,
        new Demote(DemoteMode.FAST, false, "switchover to " + target.get()));
  }

  private Optional<String> bestHandOverTarget(Observation obs) {
    ClusterView c = obs.cluster();
    List<String> sync = c.topology() == null ? List.of() : c.topology().syncStandbys();
    return c.liveMembers().stream()
        .map(Member::status)
        .filter(m -> healthyReplicaOfMe(m, obs))
        .sorted(Comparator.<MemberStatus, Boolean>comparing(m -> !sync.contains(m.name()))
            .thenComparing(m -> m.position(), Comparator.nullsLast(Comparator.reverseOrder()))
            .thenComparing(MemberStatus::name))
        .map(MemberStatus::name)
        .findFirst();
  }

  private static boolean healthyReplicaOfMe(MemberStatus m, Observation obs) {
    return healthyReplicaOf(m, obs.cluster(), obs.me());
  }

  private static boolean healthyReplicaOf(MemberStatus m, ClusterView c, String primary) {
    if (m == null || m.name().equals(primary) || m.role() != Role.REPLICA || !m.isRunning() || !m.streaming()
        || !m.tags().canFailover()) {
      return false;
    }
    MemberStatus p = c.member(primary);
    return p == null || p.connUrl() == null || p.connUrl().equals(m.upstream());
  }

  /** This replica is named by a pending switchover or failover and the leader key is free. */
  private Decision switchoverCandidate(Observation obs, Switchover sw, MemberStatus self) {
    ClusterView c = obs.cluster();
    Duration wait = policy.shortWait();
    if (sw.force()) {
      if (sw.allowDataLoss()) {
        if (self.role() == Role.REPLICA && self.isRunning() && c.initialize() != null
            && c.initialize().equals(self.systemId())) {
          return Decision.act("promoting: forced failover to me with data loss allowed (operator's choice)", AFTER_PROMOTE,
              promotion(obs, new AcquireLeaderKey("forced failover, data loss allowed"), new Promote("forced failover")));
        }
        return Decision.noAction("forced failover to me refused: not a running replica of this cluster", wait);
      }
      Optional<String> why = FailoverRanking.ineligibility(self, c);
      if (why.isPresent()) {
        return Decision.noAction("forced failover to me refused: " + why.get()
            + " (only --allow-data-loss overrides this)", wait);
      }
      return Decision.act("promoting: forced failover to me", AFTER_PROMOTE,
          promotion(obs, new AcquireLeaderKey("forced failover"), new Promote("forced failover")));
    }
    String from = sw.from() != null ? sw.from() : c.topology() == null ? null : c.topology().primary();
    MemberStatus old = from == null ? null : c.member(from);
    if (old == null || old.isRunning() || old.position() == null || self.position() == null) {
      // The old primary is gone or still running: this is not a clean hand-over any more.
      return null;
    }
    // Positions compare only on one history: the same timeline, or — since a freshly switched replica
    // may still report its previous timeline — streaming from the old primary itself.
    boolean oneHistory = self.position().timeline() == old.position().timeline()
        || (old.connUrl() != null && old.connUrl().equals(self.upstream()));
    if (!oneHistory || !self.position().lsn().isAfter(old.position().lsn())) {
      return Decision.noAction("switchover to me: waiting to receive " + from + "'s last WAL (" + old.position()
          + ", I am at " + self.position() + ")", Duration.ofMillis(100));
    }
    return Decision.act("promoting: switchover from " + from + ", I have all its WAL (" + self.position() + ")", AFTER_PROMOTE,
        promotion(obs, new AcquireLeaderKey("switchover"), new Promote("switchover from " + from)));
  }

  /**
   * A synchronous standby is wanted and a member is on its way to being one: without data yet, cloning,
   * rewinding, running as a replica that does not stream from me yet, or waited for by PostgreSQL but not
   * yet shown synchronous and streaming. Until it is recorded, a cluster in synchronous
   * mode has no failover candidate (at bootstrap, after every failover), and its status rewrite will
   * not wake this loop, so the holder looks again sooner than loop_wait — for a while: the observer
   * works this out once per tick and times each member's way, whatever its states ({@link StandbyWays}),
   * and the observation carries both ({@link Observation#standbysOnTheirWay}); the states only say why, for
   * the summary.
   *
   * @return the states of each member on its way, by member name, such as {@code n2=[not streaming from
   *     me]}; empty unless {@code me} holds the leader key as the recorded primary
   */
  public static SortedMap<String, List<String>> standbysOnTheirWay(ClusterView c, LocalPgState local, String me) {
    Topology t = c.topology();
    if (!c.reachable() || !c.isLeader(me) || t == null || !me.equals(t.primary())
        || c.config().synchronousMode() == SynchronousMode.OFF
        || t.syncStandbys().size() >= c.config().synchronousNodeCount()) {
      return Collections.emptySortedMap();
    }
    SortedMap<String, List<String>> out = new TreeMap<>();
    for (String waitedFor : local.syncStandbys()) {
      if (!waitedFor.equals("*") && !waitedFor.equals(LocalPgState.PROMOTION_HOLD)
          && !t.syncStandbys().contains(waitedFor)) {
        // until it shows synchronous and streaming, and is recorded
        out.computeIfAbsent(waitedFor, k -> new ArrayList<>()).add("waited for by PostgreSQL");
      }
    }
    for (Member member : c.liveMembers()) {
      MemberStatus m = member.status();
      if (m.name().equals(me) || m.tags().nosync() || !m.tags().canFailover()) {
        continue;
      }
      String state = null;
      if (m.state().equals(InFlight.Kind.BASE_BACKUP.state()) || m.state().equals(InFlight.Kind.REWIND.state())) {
        state = m.state();
      } else if ("stopped".equals(m.state()) && m.systemId() == null) {
        state = "without data"; // about to clone from me
      } else if (m.role() == Role.REPLICA && m.isRunning() && !healthyReplicaOf(m, c, me)) {
        state = "not streaming from me";
      } else if (m.role() == Role.REPLICA && m.isRunning() && !m.tags().nosync()
          && !nameable(local, m.name())) {
        // It says it streams from me, but my pg_stat_replication does not show it yet: it is named
        // only once it does (synchronousStandbys), which wakes nothing.
        state = "not in my pg_stat_replication yet";
      }
      if (state != null) {
        out.computeIfAbsent(m.name(), k -> new ArrayList<>()).add(state);
      }
    }
    out.replaceAll((name, states) -> states.stream().sorted().toList());
    return Collections.unmodifiableSortedMap(out);
  }

  /** {@code "n2: not streaming from me"}, one entry per member and state, for summaries. */
  private static List<String> describe(List<StandbyOnItsWay> onTheirWay) {
    List<String> out = new ArrayList<>();
    onTheirWay.forEach(s -> s.states().forEach(state -> out.add(s.member() + ": " + state)));
    return out;
  }

  /**
   * Synchronous standbys, in the safe order: every recorded standby — a failover candidate — holds every
   * commit PostgreSQL acknowledged. So a standby leaves the record before PostgreSQL may stop waiting for
   * it, and enters the record only once PostgreSQL shows it synchronous and streaming (caught up, and
   * every commit since waits for it). In between the record is smaller: a failover then waits for a
   * candidate rather than promote one that lacks commits.
   *
   * <p>A standby PostgreSQL does not wait for yet is named only while my pg_stat_replication shows it
   * streaming from me, not on its status alone: that status can be a tick old, and a standby that has
   * just been pointed at a new primary may say it streams while its WAL receiver is between
   * connections (its first attempt at a just-promoted primary can fail on a slot not made yet, and the
   * next comes only after wal_retrieve_retry_interval). Named then, it would hold every commit until it
   * connects again.
   */
  private static final Comparator<MemberStatus> AHEAD_THEN_NAME = Comparator
      .comparing(MemberStatus::position, Comparator.nullsLast(Comparator.reverseOrder()))
      .thenComparing(MemberStatus::name);

  private Decision synchronousStandbys(Observation obs, Topology t, Duration next) {
    ClusterView c = obs.cluster();
    SynchronousMode mode = c.config().synchronousMode();
    int count = c.config().synchronousNodeCount();
    List<String> recorded = t.syncStandbys();
    List<String> desired = new ArrayList<>();
    if (mode != SynchronousMode.OFF) {
      // Loops, not streams: the leader runs this every tick, mostly interpreted.
      List<MemberStatus> healthy = new ArrayList<>();
      for (Member member : c.liveMembers()) {
        MemberStatus m = member.status();
        if (healthyReplicaOfMe(m, obs) && !m.tags().nosync() && nameable(obs.local(), m.name())) {
          healthy.add(m);
        }
      }
      // The recorded ones first (a standby keeps its place while healthy), then the furthest ahead.
      healthy.sort((a, b) -> {
        boolean ra = recorded.contains(a.name());
        boolean rb = recorded.contains(b.name());
        return ra != rb ? (ra ? -1 : 1) : AHEAD_THEN_NAME.compare(a, b);
      });
      for (MemberStatus m : healthy) {
        if (desired.size() < count) {
          desired.add(m.name());
        }
      }
    }
    List<String> pgWanted = desired.isEmpty() && mode == SynchronousMode.STRICT ? List.of("*") : desired;
    List<String> keep = new ArrayList<>(recorded.size());
    for (String name : recorded) {
      if (desired.contains(name)) {
        keep.add(name);
      }
    }
    if (!keep.equals(recorded)) {
      return Decision.act("dropping " + without(recorded, keep) + " from the synchronous standby record before"
          + " PostgreSQL may stop waiting for it", next,
          new WriteTopology(new Topology(t.term(), t.primary(), t.timeline(), keep), null));
    }
    if (!obs.local().syncStandbys().equals(Set.copyOf(pgWanted))) {
      String what = pgWanted.isEmpty() ? "no synchronous standby" : pgWanted.equals(List.of("*"))
          ? "any standby (strict mode, none healthy)" : "synchronous standby " + pgWanted;
      // Recorded once PostgreSQL shows it synchronous and streaming, which wakes nothing: look again soon.
      Duration soon = pgWanted.isEmpty() || pgWanted.equals(List.of("*")) ? next : min(next, JOINING_POLL);
      return Decision.act("setting " + what + " in PostgreSQL", soon, new SetSyncStandbys(pgWanted, count, mode.json()));
    }
    List<String> confirmed = new ArrayList<>();
    for (String n : desired) {
      if (!recorded.contains(n) && obs.local().syncConfirmed().contains(n)) {
        confirmed.add(n);
      }
    }
    if (!confirmed.isEmpty()) {
      List<String> union = new ArrayList<>(recorded);
      union.addAll(confirmed);
      return Decision.act("recording synchronous standby " + confirmed + ": PostgreSQL shows it synchronous and"
          + " streaming", next, new WriteTopology(new Topology(t.term(), t.primary(), t.timeline(), union), null));
    }
    return null;
  }

  /**
   * Whether the primary may name {@code member} synchronous by what it sees itself: PostgreSQL waits for it
   * already, or its pg_stat_replication shows it streaming (synchronousStandbys says why).
   */
  private static boolean nameable(LocalPgState local, String member) {
    return local.syncStandbys().contains(member) || local.streamingStandbys().contains(member);
  }

  private static List<String> without(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.removeAll(b);
    return out;
  }

  /**
   * A former primary shut down cleanly before the point where the cluster's newer timeline forked:
   * it holds nothing the new primary lacks (a planned switchover), so it may follow without rewind.
   */
  private static boolean shutDownBeforeFork(Observation obs) {
    LocalPgState local = obs.local();
    if (local.controlState() != io.pgwarden.common.model.ControlState.SHUT_DOWN || local.timeline() == null
        || local.lsn() == null) {
      return false;
    }
    long latest = obs.cluster().latestTimeline();
    if (latest == 0 || local.timeline() >= latest) {
      return false;
    }
    Lsn fork = obs.cluster().switchPointOf(local.timeline());
    return fork != null && local.lsn().compareTo(fork) < 0;
  }

  /** A running primary that may (re)take a free key: the recorded primary, on its timeline. */
  private static boolean mayReclaim(Observation obs) {
    ClusterView c = obs.cluster();
    Topology t = c.topology();
    if (t == null) {
      return c.initialize() != null && c.initialize().equals(obs.local().systemId()) && c.history().isEmpty();
    }
    return t.primary().equals(obs.me()) && obs.local().timeline() != null && t.timeline() == obs.local().timeline();
  }

  private static boolean onLatestTimeline(Observation obs) {
    long latest = obs.cluster().latestTimeline();
    return latest == 0 || (obs.local().timeline() != null && obs.local().timeline() == latest);
  }

  /**
   * The local WAL went past the point where the cluster's history forked off its timeline: it holds
   * changes no newer primary has, and must be rewound before it may follow.
   */
  static boolean diverged(Observation obs) {
    LocalPgState local = obs.local();
    if (local.timeline() == null || local.lsn() == null) {
      return false;
    }
    long latest = obs.cluster().latestTimeline();
    if (latest == 0 || local.timeline() >= latest) {
      return false;
    }
    Lsn fork = obs.cluster().switchPointOf(local.timeline());
    return fork != null && local.lsn().isAfter(fork);
  }

  private static Optional<String> cloneSource(Observation obs) {
    ClusterView c = obs.cluster();
    if (!c.hasLeader() || c.isLeader(obs.me())) {
      return Optional.empty();
    }
    MemberStatus ls = c.member(c.leader().holder());
    if (ls == null || !ls.isRunning() || ls.role() != Role.PRIMARY || ls.connUrl() == null) {
      return Optional.empty();
    }
    return Optional.of(ls.name());
  }

  /** What this node would publish now, from its live local state. */
  public static MemberStatus selfStatus(Observation obs) {
    LocalPgState l = obs.local();
    Role role = !l.running() ? Role.UNKNOWN : l.inRecovery() ? Role.REPLICA : Role.PRIMARY;
    return new MemberStatus(obs.me(), role, l.running() ? "running" : "stopped", l.timeline(), l.lsn(),
        l.replayedLsn(), l.streaming(), l.upstream(), null, null, l.systemId(), obs.tags(), null, null);
  }

  private static int indexOf(List<Candidate> ranked, String name) {
    for (int i = 0; i < ranked.size(); i++) {
      if (ranked.get(i).name().equals(name)) {
        return i;
      }
    }
    return -1;
  }

  private static Duration min(Duration a, Duration b) {
    Duration m = a.compareTo(b) <= 0 ? a : b;
    return m.isZero() || m.isNegative() ? Duration.ofMillis(100) : m;
  }
}
