package io.pgwarden.agent.loop;

import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.agent.port.EtcdUnavailableException;
import io.pgwarden.agent.port.LeaseLostException;
import io.pgwarden.agent.port.PostgresProbe;
import io.pgwarden.agent.port.RawScope;
import io.pgwarden.common.config.Keys;
import io.pgwarden.common.decide.LeaseMovePolicy;
import io.pgwarden.common.decide.RenewalPolicy;
import io.pgwarden.common.decide.StandbyWays;
import io.pgwarden.common.lease.LeaseTracker;
import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.model.InFlight;
import io.pgwarden.common.model.LocalPgState;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Observation;
import io.pgwarden.common.model.Role;
import io.pgwarden.common.model.Tags;
import io.pgwarden.common.model.WalPosition;
import io.pgwarden.common.time.MonotonicClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes one full snapshot: renews our lease (the renewal is the heartbeat, so a hung loop loses the
 * key), reads the whole scope at one revision (from the watch-fed {@link WatchedScope} when it is
 * complete, else in one range), probes PostgreSQL. Never throws; failures become data.
 * Owned by the loop thread.
 */
public final class Observer {
  private static final Logger log = LoggerFactory.getLogger(Observer.class);
  private static final Duration MIN_CALL_TIMEOUT = Duration.ofMillis(200);
  private static final Duration LAST_TRY = Duration.ofMillis(500);

  private final String me;
  private final Tags tags;
  private final Keys keys;
  private final ClusterStore store;
  private final PostgresProbe probe;
  private final LeaseTracker lease;
  private final AsyncActions async;
  private final MonotonicClock clock;
  private final ClusterViewParser parser;
  private final OperatorRequests requests;
  private final ScopeReader scopeReader;
  private final StandbyWays standbyWays = new StandbyWays();

  private DynamicConfig config;
  private String lastConfigError;
  private String lastSwitchoverError;
  /** Unparsable keys and member keys without a lease already reported, so each is logged once while it stays. */
  private List<String> reportedErrors = List.of();
  private List<String> reportedUnbound = List.of();
  private List<String> reportedIgnored = List.of();
  // The ttl the lease held now was asked for; null before the first grant.
  private Duration leaseAskedTtl;
  /** The parser's last answer: the same object again means the same scope and config (it memoises). */
  private ClusterViewParser.Parsed lastParsed;
  private int fullReadPeriodTtl = -1;
  private Duration fullReadPeriod;
  private Long leaderAbsentSinceNanos;
  private long leaderAbsentSinceRevision;
  private WalPosition lastPrimaryPosition;
  private ClusterView lastView;
  private LocalPgState lastLocal;

  public Observer(String me, Tags tags, Keys keys, ClusterStore store, PostgresProbe probe, LeaseTracker lease,
      AsyncActions async, MonotonicClock clock, DynamicConfig initialConfig, OperatorRequests requests) {
    this(me, tags, keys, store, probe, lease, async, clock, initialConfig, requests,
        (timeout, fullReadPeriod) -> store.readPrefix(keys.prefix(), timeout));
  }

  /** Reads the whole scope at one revision, as {@link WatchedScope#read(Duration, Duration)}. */
  @FunctionalInterface
  public interface ScopeReader {
    /**
     * @param timeout how long the read may take
     * @param fullReadPeriod the longest a cached answer may go without a full range read
     */
    RawScope read(Duration timeout, Duration fullReadPeriod);
  }

  /**
   * @param scopeReader reads the whole scope at one revision within the timeout (e.g. {@link
   *     WatchedScope#read(Duration, Duration)}); throws like {@link ClusterStore#readPrefix}
   */
  public Observer(String me, Tags tags, Keys keys, ClusterStore store, PostgresProbe probe, LeaseTracker lease,
      AsyncActions async, MonotonicClock clock, DynamicConfig initialConfig, OperatorRequests requests,
      ScopeReader scopeReader) {
    this.scopeReader = scopeReader;
    this.me = me;
    this.tags = tags;
    this.keys = keys;
    this.store = store;
    this.probe = probe;
    this.lease = lease;
    this.async = async;
    this.clock = clock;
    this.parser = new ClusterViewParser(keys);
    this.config = initialConfig;
    this.requests = requests;
  }

  public Observation observe() {
    // Taken before anything else is read: an action that finishes while this tick reads etcd and PostgreSQL
    // must still count as in flight, or the decision would pair its result (a bootstrapped primary) with an
    // older view (no /initialize yet) and undo it. The next tick reads everything after it.
    InFlight inFlight = async.current();
    boolean rewindFailed = async.rewindFailed();
    ClusterView view;
    // The leader (and anyone who may act on the key) renews first, before anything else can happen.
    boolean renewNow = !mayDeferRenewal(lastView, lastLocal);
    String renewError = renewNow ? renewLease() : null;
    if (renewError != null) {
      view = ClusterView.unreachable(renewError, config);
    } else {
      view = readScope();
    }
    LocalPgState local = probe.probe();
    if (!renewNow && view.reachable() && !mayDeferRenewal(view, local)) {
      // The world changed since the last tick (no leader any more, a switchover, ...): renew before deciding.
      renewError = renewLease();
      if (renewError != null) {
        view = ClusterView.unreachable(renewError, config);
      }
    }
    noteKeysMoved(view);
    lastView = view;
    lastLocal = local;
    trackLeader(view);
    Duration absentFor = leaderAbsentSinceNanos == null ? null : Duration.ofNanos(clock.nanoTime() - leaderAbsentSinceNanos);
    return new Observation(me, tags, view, local, lease.state(), inFlight, absentFor,
        leaderAbsentSinceRevision, lastPrimaryPosition, rewindFailed || probe.rewindIncomplete(), requests.peek(),
        Instant.now(), standbyWays.track(view, local, me, clock.nanoTime()));
  }

  public DynamicConfig config() {
    return config;
  }

  /** See {@link RenewalPolicy#mayDeferRenewal}; before the first tick there is no view to judge by. */
  private boolean mayDeferRenewal(ClusterView view, LocalPgState local) {
    if (view == null || local == null) {
      return false;
    }
    return RenewalPolicy.mayDeferRenewal(view.reachable(), view.hasLeader(), view.isLeader(me),
        local.runningAsPrimary(), view.switchover() != null, requests.peek() != null, lease.state(),
        config.ttlDuration(), config.retryTimeoutDuration());
  }

  /** Calls to etcd never outlast the lease: a leader must learn in time that it could not renew. */
  public Duration callTimeout() {
    Duration t = config.retryTimeoutDuration();
    if (lease.isValid() && lease.remaining().compareTo(t) < 0) {
      t = lease.remaining();
    } else if (!lease.isValid() && lease.leaseId() != 0 && lastLocal != null && lastLocal.runningAsPrimary()
        && !config.paused()) {
      // A primary whose lease ran out locally must stop taking writes before etcd may expire its key, at most
      // retry_timeout later; a renewal that waited retry_timeout would demote only then. One short last try.
      t = t.dividedBy(2).compareTo(LAST_TRY) < 0 ? t.dividedBy(2) : LAST_TRY;
    }
    return t.compareTo(MIN_CALL_TIMEOUT) < 0 ? MIN_CALL_TIMEOUT : t;
  }

  /** Returns null when we hold a renewed lease, else why etcd is unusable. */
  private String renewLease() {
    Duration timeout = callTimeout();
    long id = lease.leaseId();
    if (LeaseMovePolicy.shouldMove(id, leaseAskedTtl, config.ttlDuration(), lease.isValid())
        && moveToNewLease(id, timeout)) {
      return null;
    }
    if (id != 0) {
      long sentAt = lease.beginRenew();
      try {
        Duration ttl = store.keepAliveOnce(id, timeout);
        lease.renewed(id, sentAt, ttl);
        return null;
      } catch (LeaseLostException e) {
        log.warn("my etcd lease {} is gone (expired or revoked); the keys bound to it are gone too", Long.toHexString(id));
        lease.lost();
      } catch (EtcdUnavailableException e) {
        return e.getMessage();
      } catch (RuntimeException e) {
        return "lease renewal failed: " + (e.getMessage() != null ? e.getMessage() : e.toString());
      }
    }
    long sentAt = lease.beginRenew();
    try {
      ClusterStore.Grant g = store.grantLease(config.ttlDuration(), timeout);
      lease.granted(g.leaseId(), sentAt, g.ttl(), config.retryTimeoutDuration());
      leaseAskedTtl = config.ttlDuration();
      log.info("granted etcd lease {} with ttl {} s", Long.toHexString(g.leaseId()), g.ttl().toSeconds());
      return null;
    } catch (EtcdUnavailableException e) {
      return e.getMessage();
    } catch (RuntimeException e) {
      return "lease grant failed: " + (e.getMessage() != null ? e.getMessage() : e.toString());
    }
  }

  /**
   * A lease keeps the ttl it was granted with, so a changed ttl (set-config ttl=4) takes effect through a new
   * lease: granted now, my member key moves to it when it is published next (this tick), the leader key by
   * the loop's rebind; the old lease, renewed no more, runs out holding nothing. Until the leader key is seen
   * on the new lease, the old lease's deadline bounds mine ({@link LeaseTracker#moving}). Returns false
   * when no new lease could be had: the old one is renewed, and the move tried again next time.
   */
  private boolean moveToNewLease(long old, Duration timeout) {
    long sentAt = lease.beginRenew();
    try {
      ClusterStore.Grant g = store.grantLease(config.ttlDuration(), timeout);
      lease.moving(g.leaseId(), sentAt, g.ttl(), config.retryTimeoutDuration());
      log.info("ttl is {} s now: moving my keys from etcd lease {} (granted for {} s) to new lease {}", config.ttl(),
          Long.toHexString(old), leaseAskedTtl.toSeconds(), Long.toHexString(g.leaseId()));
      leaseAskedTtl = config.ttlDuration();
      return true;
    } catch (RuntimeException e) {
      log.warn("ttl is {} s now, but no new etcd lease could be granted ({}); renewing lease {} and trying again",
          config.ttl(), e.getMessage() != null ? e.getMessage() : e.toString(), Long.toHexString(old));
      return false;
    }
  }

  /** Once the leader key (when it names me) is on the lease I renew, only that lease's deadline counts. */
  private void noteKeysMoved(ClusterView view) {
    if (lease.movingKeys() && LeaseMovePolicy.keysMoved(view.reachable(), view.leader(), me, lease.leaseId())) {
      lease.keysMoved();
      log.info("no leader key of mine is on the old lease: etcd lease {} alone sets my deadline now",
          Long.toHexString(lease.leaseId()));
    }
  }

  private ClusterView readScope() {
    RawScope raw;
    try {
      raw = scopeReader.read(callTimeout(), fullReadPeriod());
    } catch (EtcdUnavailableException e) {
      return ClusterView.unreachable(e.getMessage(), config);
    } catch (RuntimeException e) {
      return ClusterView.unreachable("reading the cluster failed: " + e, config);
    }
    ClusterViewParser.Parsed p = parser.parse(raw, config);
    if (p == lastParsed) {
      // The parser's answer for an unchanged scope and config: everything below was done for it already.
      return p.view();
    }
    lastParsed = p;
    if (p.configError() != null) {
      if (!p.configError().equals(lastConfigError)) {
        log.error("ignoring invalid dynamic config, keeping the last valid one: {}", p.configError());
      }
    } else if (!Objects.equals(config, p.view().config())) {
      log.info("dynamic config now {}", p.view().config());
    }
    lastConfigError = p.configError();
    if (p.switchoverError() != null && !p.switchoverError().equals(lastSwitchoverError)) {
      log.error("ignoring a switchover request nobody can read: {}; `pgwarden switchover --cancel` deletes it",
          p.switchoverError());
    }
    lastSwitchoverError = p.switchoverError();
    config = p.view().config();
    // Each once, when it appears (again after it was gone), not on every tick while it stays.
    for (String err : appeared(reportedErrors, p.view().errors())) {
      log.warn("unparsable cluster data (no promotion while it lasts): {}", err);
    }
    reportedErrors = p.view().errors();
    // The decision ignores such keys (ClusterView#liveMembers); an operator should learn why.
    for (String name : appeared(reportedUnbound, p.view().unboundMembers())) {
      log.warn("ignoring member key {}: not bound to a lease, so not written by a live agent; no replication "
          + "slot, synchronous standby, failover rank or pg_hba entry for it (delete the key if it is stale)",
          keys.member(name));
    }
    reportedUnbound = p.view().unboundMembers();
    for (String err : appeared(reportedIgnored, p.ignored())) {
      log.warn("ignoring unparsable member key bound to no lease (so written by no live agent; it blocks no"
          + " promotion; delete it if it is stale): {}", err);
    }
    reportedIgnored = p.ignored();
    return p.view();
  }

  /** {@link WatchedScope#fullReadPeriod} at the current ttl, worked out again only when the ttl changes. */
  private Duration fullReadPeriod() {
    int ttl = config.ttl();
    if (ttl != fullReadPeriodTtl) {
      fullReadPeriod = WatchedScope.fullReadPeriod(config.ttlDuration());
      fullReadPeriodTtl = ttl;
    }
    return fullReadPeriod;
  }

  private static List<String> appeared(List<String> before, List<String> now) {
    return now.stream().filter(x -> !before.contains(x)).toList();
  }

  private void trackLeader(ClusterView view) {
    if (!view.reachable()) {
      return;
    }
    if (view.hasLeader()) {
      leaderAbsentSinceNanos = null;
      MemberStatus ls = view.member(view.leader().holder());
      if (ls != null && ls.role() == Role.PRIMARY && ls.position() != null) {
        lastPrimaryPosition = ls.position();
      }
    } else if (leaderAbsentSinceNanos == null) {
      leaderAbsentSinceNanos = clock.nanoTime();
      leaderAbsentSinceRevision = view.revision();
    }
  }
}
