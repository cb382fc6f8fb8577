package io.pgwarden.common.testing;

import io.pgwarden.common.model.OperatorRequest;
import io.pgwarden.common.model.Switchover;
import java.time.Instant;

import io.pgwarden.common.decide.Decider;
import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.ControlState;
import io.pgwarden.common.model.DataDirState;
import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.model.HistoryEntry;
import io.pgwarden.common.model.InFlight;
import io.pgwarden.common.model.LeaderRecord;
import io.pgwarden.common.model.LeaseState;
import io.pgwarden.common.model.LocalPgState;
import io.pgwarden.common.model.Lsn;
import io.pgwarden.common.model.Member;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Observation;
import io.pgwarden.common.model.Role;
import io.pgwarden.common.model.StandbyOnItsWay;
import io.pgwarden.common.model.SynchronousMode;
import io.pgwarden.common.model.Tags;
import io.pgwarden.common.model.TimelineSwitch;
import io.pgwarden.common.model.Topology;
import io.pgwarden.common.model.WalPosition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A fluent builder of {@link Observation}s for decider tests, so that one table row reads like a
 * sentence:
 *
 * <pre>{@code
 * Observations.node("n1").replicaRunning(2, "0/3000060").streamingFrom("n2:5432")
 *     .leaderKey("n2").member(Observations.member("n2").primary(2, "0/3000060"))
 * }</pre>
 *
 * <p>Defaults: the cluster is reachable and initialised with {@link #SYSTEM_ID}; no leader key, no
 * members, no topology, no history, default dynamic config; the local PostgreSQL is a running,
 * non-streaming replica on timeline 1 of that system; the agent's lease {@link #LEASE_ID} is valid
 * for 15 s more. Every builder is mutable and single-use.
 */
public final class Observations {
  public static final String SYSTEM_ID = "7300000000000000001";
  public static final long LEASE_ID = 4242;
  public static final long REVISION = 100;
  /** The lease other members' keys are bound to unless a row says {@link MemberBuilder#noLease()}. */
  public static final long MEMBER_LEASE_ID = 5151;

  private final String me;
  private Tags tags = Tags.NONE;
  // cluster
  private boolean reachable = true;
  private String unreachableReason;
  private long revision = REVISION;
  private String initialize = SYSTEM_ID;
  private LeaderRecord leader;
  private final Map<String, Member> members = new LinkedHashMap<>();
  private Topology topology;
  private final List<HistoryEntry> history = new ArrayList<>();
  // Rows are asynchronous unless they say otherwise: synchronous mode narrows who may be promoted,
  // and the rows about synchronous replication ask for it explicitly.
  private DynamicConfig config =
      new DynamicConfig(null, null, null, null, io.pgwarden.common.model.SynchronousMode.OFF, null, null, null);
  private final List<String> errors = new ArrayList<>();
  // local
  private DataDirState dataDir = DataDirState.VALID;
  private boolean running = true;
  private boolean inRecovery = true;
  private ControlState controlState = ControlState.IN_ARCHIVE_RECOVERY;
  private String systemId = SYSTEM_ID;
  private Long timeline = 1L;
  private Lsn lsn = Lsn.parse("0/3000000");
  private Lsn replayedLsn;
  private Switchover switchover;
  private Set<String> pgSyncStandbys = Set.of();
  private Set<String> syncConfirmed = Set.of();
  /** null: every member (pg_stat_replication agrees with what the members say of themselves). */
  private Set<String> streamingStandbys;
  // Unless a row says otherwise, the config files hold exactly the dynamic parameters of /config.
  private boolean appliedInSync = true;
  private Map<String, String> appliedParameters;
  private Set<String> pendingRestart = Set.of();
  private boolean hostsInSync = true;
  private Set<String> appliedReplicationHosts;
  private OperatorRequest request;
  private Instant now = Instant.parse("2026-01-01T00:00:00Z");
  private boolean streaming;
  private String upstream;
  private final List<TimelineSwitch> timelineHistory = new ArrayList<>();
  private Set<String> slots = Set.of();
  private boolean postmasterAlive = true;
  private String probeError;
  // lease and the rest
  private LeaseState lease = new LeaseState(LEASE_ID, true, Duration.ofSeconds(15));
  private InFlight inFlight;
  private Duration leaderAbsentFor;
  private long leaderAbsentSince;
  private WalPosition lastPrimaryPosition;
  private boolean rewindFailed;
  /** How long the observer has timed each member's way, by name; a member not here has just begun one. */
  private final Map<String, Duration> onItsWayFor = new HashMap<>();

  private Observations(String me) {
    this.me = me;
  }

  /** An observation made by the agent of member {@code me}. */
  public static Observations node(String me) {
    return new Observations(me);
  }

  /** Another member's published status. */
  public static MemberBuilder member(String name) {
    return new MemberBuilder(name);
  }

  /** The address other members use to reach {@code name}'s PostgreSQL, as conn_url and upstream. */
  public static String connUrl(String name) {
    return name + ":5432";
  }

  public static Lsn lsn(String text) {
    return Lsn.parse(text);
  }

  // ---- local PostgreSQL ----

  /** Running, not in recovery, on {@code timeline} at {@code lsn}. */
  public Observations primaryRunning(long timeline, String lsn) {
    this.dataDir = DataDirState.VALID;
    this.running = true;
    this.inRecovery = false;
    this.controlState = ControlState.IN_PRODUCTION;
    this.timeline = timeline;
    this.lsn = Lsn.parse(lsn);
    this.postmasterAlive = true;
    return this;
  }

  /** Running in recovery on {@code timeline}, having received up to {@code lsn}. */
  public Observations replicaRunning(long timeline, String lsn) {
    this.dataDir = DataDirState.VALID;
    this.running = true;
    this.inRecovery = true;
    this.controlState = ControlState.IN_ARCHIVE_RECOVERY;
    this.timeline = timeline;
    this.lsn = Lsn.parse(lsn);
    this.postmasterAlive = true;
    return this;
  }

  /** PostgreSQL down; pg_controldata says {@code state}, the last checkpoint is at {@code lsn}. */
  public Observations stopped(ControlState state, long timeline, String lsn) {
    this.dataDir = DataDirState.VALID;
    this.running = false;
    this.inRecovery = false;
    this.controlState = state;
    this.timeline = timeline;
    this.lsn = Lsn.parse(lsn);
    this.postmasterAlive = false;
    this.streaming = false;
    this.upstream = null;
    return this;
  }

  /** The data directory is empty (or absent): nothing to lose. */
  /** A postmaster process exists (for example one still starting up). */
  public Observations postmasterAlive() {
    this.postmasterAlive = true;
    return this;
  }

  public Observations noData() {
    return dataDir(DataDirState.EMPTY);
  }

  public Observations dataDir(DataDirState state) {
    this.dataDir = state;
    if (state != DataDirState.VALID) {
      this.running = false;
      this.inRecovery = false;
      this.controlState = ControlState.UNKNOWN;
      this.systemId = null;
      this.timeline = null;
      this.lsn = null;
      this.postmasterAlive = false;
    }
    return this;
  }

  /** The probe failed, but pg_control says {@code control}. */
  public Observations localUnknown(String why, boolean postmasterAlive, ControlState control) {
    localUnknown(why, postmasterAlive);
    this.controlState = control;
    return this;
  }

  /** The probe failed: {@link LocalPgState#unknown}. */
  public Observations localUnknown(String why, boolean postmasterAlive) {
    this.probeError = why;
    this.dataDir = DataDirState.UNKNOWN;
    this.running = false;
    this.inRecovery = false;
    this.controlState = ControlState.UNKNOWN;
    this.systemId = null;
    this.timeline = null;
    this.lsn = null;
    this.postmasterAlive = postmasterAlive;
    return this;
  }

  public Observations systemId(String systemId) {
    this.systemId = systemId;
    return this;
  }

  /** The local timeline could not be read (null). */
  public Observations timeline(Long timeline) {
    this.timeline = timeline;
    return this;
  }

  /** The local WAL position could not be read when {@code lsn} is null. */
  public Observations localLsn(String lsn) {
    this.lsn = lsn == null ? null : Lsn.parse(lsn);
    return this;
  }

  /** A replica whose WAL receiver streams from {@code upstream}. */
  public Observations streamingFrom(String upstream) {
    this.upstream = upstream;
    this.streaming = true;
    return this;
  }

  /** A replica whose primary_conninfo points at {@code upstream}, not streaming (yet). */
  public Observations upstream(String upstream) {
    this.upstream = upstream;
    this.streaming = false;
    return this;
  }

  /** Adds a line of the local timeline history file: {@code parent} ended at {@code switchLsn}. */
  public Observations timelineSwitch(long parent, String switchLsn) {
    timelineHistory.add(new TimelineSwitch(parent, Lsn.parse(switchLsn)));
    return this;
  }

  public Observations slots(String... names) {
    this.slots = new LinkedHashSet<>(Arrays.asList(names));
    return this;
  }

  public Observations tags(Tags tags) {
    this.tags = tags;
    return this;
  }

  public Observations nofailover() {
    return tags(new Tags(true, false, 1, false));
  }

  // ---- the lease ----

  /** This agent's own lease, as the lease tracker judges it. */
  public Observations lease(boolean valid, Duration remaining) {
    this.lease = new LeaseState(lease.leaseId(), valid, valid ? remaining : Duration.ZERO);
    return this;
  }

  public Observations leaseExpired() {
    return lease(false, Duration.ZERO);
  }

  // ---- the cluster in etcd ----

  /** The leader key names me and is bound to my current lease. */
  public Observations holdingKey() {
    return leaderKey(me, lease.leaseId());
  }

  /** The leader key names {@code holder}, bound to some lease of its own. */
  public Observations leaderKey(String holder) {
    return leaderKey(holder, 777);
  }

  public Observations leaderKey(String holder, long leaseId) {
    this.leader = new LeaderRecord(holder, leaseId, REVISION - 10);
    return this;
  }

  public Observations noLeader() {
    this.leader = null;
    return this;
  }

  public Observations member(MemberBuilder m) {
    Member built = m.build();
    members.put(built.name(), built);
    return this;
  }

  /** A member whose key is bound to the lease {@link #MEMBER_LEASE_ID}, as an agent's own is. */
  public Observations member(MemberStatus status, long modRevision) {
    members.put(status.name(), new Member(status, modRevision, MEMBER_LEASE_ID));
    return this;
  }

  public Observations topology(long term, String primary, long timeline, String... syncStandbys) {
    this.topology = new Topology(term, primary, timeline, List.of(syncStandbys));
    return this;
  }

  /** A history entry: {@code timeline} forked off its parent at {@code switchLsn}. */
  public Observations historyEntry(long term, String from, String to, long timeline, String switchLsn) {
    history.add(new HistoryEntry(term, "failover", from, to, timeline,
        switchLsn == null ? null : Lsn.parse(switchLsn), null, "test"));
    return this;
  }

  /** The {@code /initialize} key: null when nobody claimed the cluster, "" while bootstrapping. */
  public Observations initialize(String systemId) {
    this.initialize = systemId;
    return this;
  }

  public Observations notInitialized() {
    return initialize(null);
  }

  public Observations config(DynamicConfig config) {
    this.config = config;
    return this;
  }

  public Observations paused() {
    return config(withPause(config));
  }

  public Observations synchronousMode(SynchronousMode mode) {
    DynamicConfig c = config;
    return config(new DynamicConfig(c.ttl(), c.loopWait(), c.retryTimeout(), c.maximumLagOnFailover(), mode,
        c.synchronousNodeCount(), c.pause(), c.parameters()));
  }

  public Observations maximumLagOnFailover(long bytes) {
    DynamicConfig c = config;
    return config(new DynamicConfig(c.ttl(), c.loopWait(), c.retryTimeout(), bytes, c.synchronousMode(),
        c.synchronousNodeCount(), c.pause(), c.parameters()));
  }

  /** A value in etcd could not be parsed; the observer reports it instead of guessing. */
  public Observations parseError(String line) {
    errors.add(line);
    return this;
  }

  /** etcd could not be read at all; the last valid config is kept. */
  public Observations etcdUnreachable(String why) {
    this.reachable = false;
    this.unreachableReason = why;
    return this;
  }

  // ---- the agent's own memory ----

  /** No leader key for {@code d}, first seen missing at etcd revision {@code sinceRevision}. */
  public Observations leaderAbsentFor(Duration d, long sinceRevision) {
    this.leaderAbsentFor = d;
    this.leaderAbsentSince = sinceRevision;
    return this;
  }

  public Observations leaderAbsentFor(Duration d) {
    return leaderAbsentFor(d, REVISION - 5);
  }

  /**
   * The observer has timed {@code member}'s way for {@code d}: it applies if {@code Decider#standbysOnTheirWay}
   * names that member for this observation (which {@link #build} works out, as the observer does).
   */
  public Observations onItsWayFor(String member, Duration d) {
    this.onItsWayFor.put(member, d);
    return this;
  }

  public Observations inFlight(InFlight.Kind kind, String source) {
    this.inFlight = new InFlight(kind, source);
    return this;
  }

  public Observations lastPrimaryPosition(long timeline, String lsn) {
    this.lastPrimaryPosition = new WalPosition(timeline, Lsn.parse(lsn));
    return this;
  }

  public Observations rewindFailed() {
    this.rewindFailed = true;
    return this;
  }

  /** A pending switchover (or, with force, a failover) in {@code /switchover}. */
  public Observations switchover(Switchover s) {
    this.switchover = s;
    return this;
  }

  /** The names synchronous_standby_names currently holds on this (primary) node. */
  public Observations pgSyncStandbys(String... names) {
    this.pgSyncStandbys = Set.of(names);
    return this;
  }

  /** The standbys pg_stat_replication shows synchronous and streaming. */
  public Observations syncConfirmed(String... names) {
    this.syncConfirmed = Set.of(names);
    return this;
  }

  /** The standbys pg_stat_replication shows streaming from this (primary) node; by default every member. */
  public Observations streamingStandbys(String... names) {
    this.streamingStandbys = Set.of(names);
    return this;
  }

  /** The dynamic PostgreSQL parameters in /config. */
  public Observations parameters(Map<String, String> parameters) {
    DynamicConfig c = config;
    return config(new DynamicConfig(c.ttl(), c.loopWait(), c.retryTimeout(), c.maximumLagOnFailover(),
        c.synchronousMode(), c.synchronousNodeCount(), c.pause(), parameters));
  }

  /** The dynamic parameters the local config files last rendered; null: unknown (agent restarted). */
  public Observations appliedParameters(Map<String, String> applied) {
    this.appliedInSync = false;
    this.appliedParameters = applied;
    return this;
  }

  /** The hosts pg_hba.conf last allowed replication from; null: unknown. */
  public Observations appliedReplicationHosts(Set<String> hosts) {
    this.hostsInSync = false;
    this.appliedReplicationHosts = hosts;
    return this;
  }

  /** Settings PostgreSQL reports as pending_restart. */
  public Observations pendingRestart(String... names) {
    this.pendingRestart = Set.of(names);
    return this;
  }

  public Observations request(OperatorRequest r) {
    this.request = r;
    return this;
  }

  /** Wall-clock time of the observation (scheduled switchovers only). */
  public Observations now(Instant now) {
    this.now = now;
    return this;
  }

  public Observation build() {
    ClusterView cluster = reachable
        ? new ClusterView(true, null, revision, initialize, leader, members, topology, history, config, errors,
            switchover)
        : ClusterView.unreachable(unreachableReason, config);
    LocalPgState local = new LocalPgState(dataDir, running, inRecovery, controlState, systemId, timeline, lsn,
        replayedLsn, streaming, upstream, timelineHistory, slots, postmasterAlive, probeError, pgSyncStandbys,
        appliedInSync ? config.parameters() : appliedParameters, pendingRestart,
        hostsInSync ? io.pgwarden.common.decide.ReplicationHosts.wanted(cluster) : appliedReplicationHosts)
        .withSyncConfirmed(syncConfirmed)
        .withStreamingStandbys(streamingStandbys != null ? streamingStandbys
            : members.keySet());
    List<StandbyOnItsWay> onTheirWay = new ArrayList<>();
    Decider.standbysOnTheirWay(cluster, local, me).forEach((name, states) ->
        onTheirWay.add(new StandbyOnItsWay(name, states, onItsWayFor.getOrDefault(name, Duration.ZERO))));
    return new Observation(me, tags, cluster, local, lease, inFlight, leaderAbsentFor, leaderAbsentSince,
        lastPrimaryPosition, rewindFailed, request, now, onTheirWay);
  }

  @Override
  public String toString() {
    return build().toString();
  }

  private static DynamicConfig withPause(DynamicConfig c) {
    return new DynamicConfig(c.ttl(), c.loopWait(), c.retryTimeout(), c.maximumLagOnFailover(),
        c.synchronousMode(), c.synchronousNodeCount(), true, c.parameters());
  }

  /**
   * Another member's status. Defaults: a running replica of {@link #SYSTEM_ID} on timeline 1 at
   * 0/3000000, reachable at {@link #connUrl}, written at revision {@link #REVISION} (after the leader
   * vanished, with the default {@link #leaderAbsentFor(Duration)}), its key bound to {@link #MEMBER_LEASE_ID}.
   */
  public static final class MemberBuilder {
    private final String name;
    private Role role = Role.REPLICA;
    private String state = "running";
    private Long timeline = 1L;
    private Lsn lsn = Lsn.parse("0/3000000");
    private String connUrl;
    private String systemId = SYSTEM_ID;
    private Tags tags = Tags.NONE;
    private long modRevision = REVISION;
    private long lease = MEMBER_LEASE_ID;
    private String upstream;
    private boolean streaming = true;

    private MemberBuilder(String name) {
      this.name = name;
      this.connUrl = Observations.connUrl(name);
    }

    public MemberBuilder primary(long timeline, String lsn) {
      this.role = Role.PRIMARY;
      this.timeline = timeline;
      this.lsn = Lsn.parse(lsn);
      return this;
    }

    public MemberBuilder replica(long timeline, String lsn) {
      this.role = Role.REPLICA;
      this.timeline = timeline;
      this.lsn = Lsn.parse(lsn);
      return this;
    }

    public MemberBuilder state(String state) {
      this.state = state;
      return this;
    }

    /** Published without a timeline (the agent could not read it). */
    public MemberBuilder noTimeline() {
      this.timeline = null;
      return this;
    }

    public MemberBuilder connUrl(String connUrl) {
      this.connUrl = connUrl;
      return this;
    }

    public MemberBuilder noConnUrl() {
      this.connUrl = null;
      return this;
    }

    public MemberBuilder systemId(String systemId) {
      this.systemId = systemId;
      return this;
    }

    public MemberBuilder tags(Tags tags) {
      this.tags = tags;
      return this;
    }

    public MemberBuilder priority(int failoverPriority) {
      return tags(new Tags(false, false, failoverPriority, false));
    }

    /** A replica streaming from {@code upstream} (host:port). */
    public MemberBuilder upstream(String upstream) {
      this.upstream = upstream;
      return this;
    }

    /** A running replica whose WAL receiver is not (yet) connected. */
    public MemberBuilder notStreaming() {
      this.streaming = false;
      return this;
    }

    public MemberBuilder stoppedAt(long timeline, String lsn) {
      this.role = Role.UNKNOWN;
      this.state = "stopped";
      this.timeline = timeline;
      this.lsn = Lsn.parse(lsn);
      return this;
    }

    public MemberBuilder nofailover() {
      return tags(new Tags(true, false, 1, false));
    }

    /** The etcd revision this status was written at. */
    public MemberBuilder modRevision(long modRevision) {
      this.modRevision = modRevision;
      return this;
    }

    /** The key bound to no lease: written by hand or by a foreign process, not by a live agent. */
    public MemberBuilder noLease() {
      this.lease = 0;
      return this;
    }

    public MemberStatus status() {
      return new MemberStatus(name, role, state, timeline, lsn, null, role == Role.REPLICA && streaming, upstream,
          "http://" + name + ":8008", connUrl, systemId, tags, "0.1.0", null);
    }

    public Member build() {
      return new Member(status(), modRevision, lease);
    }
  }
}
