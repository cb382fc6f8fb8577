package io.pgwarden.agent.loop;

import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.agent.port.FatalAgentException;
import io.pgwarden.agent.port.PghaException;
import io.pgwarden.agent.port.PostgresControl;
import io.pgwarden.agent.port.PostgresProbe;
import io.pgwarden.agent.port.RawKv;
import io.pgwarden.agent.port.ReplicationSource;
import io.pgwarden.common.config.Keys;
import io.pgwarden.common.decide.Action;
import io.pgwarden.common.decide.Action.AcquireLeaderKey;
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
import io.pgwarden.common.json.Json;
import io.pgwarden.common.lease.LeaseTracker;
import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.model.HistoryEntry;
import io.pgwarden.common.model.InFlight;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Observation;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out a decision's actions in order and stops at the first failure. Adapters only act: no
 * decision is taken here beyond the last-moment safety checks (we still hold a valid lease before
 * promoting). Whether an action worked is seen by the next observation.
 */
public final class ActionExecutor {
  private static final Logger log = LoggerFactory.getLogger(ActionExecutor.class);

  private final String me;
  private final Keys keys;
  private final ClusterStore store;
  private final PostgresControl pg;
  private final PostgresProbe probe;
  private final LeaseTracker lease;
  private final AsyncActions async;
  private final Supplier<Duration> callTimeout;
  private final DynamicConfig bootstrapConfig;
  private final Runnable onKeyAcquired;

  public ActionExecutor(String me, Keys keys, ClusterStore store, PostgresControl pg, PostgresProbe probe,
      LeaseTracker lease, AsyncActions async, Supplier<Duration> callTimeout, DynamicConfig bootstrapConfig,
      Runnable onKeyAcquired) {
    this.me = me;
    this.keys = keys;
    this.store = store;
    this.pg = pg;
    this.probe = probe;
    this.lease = lease;
    this.async = async;
    this.callTimeout = callTimeout;
    this.bootstrapConfig = bootstrapConfig;
    this.onKeyAcquired = onKeyAcquired;
  }

  /** Thrown when an action could not be carried out; the loop logs it and looks again. */
  public static final class ActionFailedException extends PghaException {
    private static final long serialVersionUID = 1L;

    public ActionFailedException(String message) {
      super(message);
    }
  }

  public void apply(List<Action> actions, Observation obs) {
    // Whatever renders the config files in this tick (start, follow, reload) uses the observed /config.
    pg.useDynamicParameters(obs.config().parameters());
    pg.holdCommitsWhenPromoted(obs.config().synchronousMode() != io.pgwarden.common.model.SynchronousMode.OFF);
    if (obs.cluster().reachable()) {
      pg.useReplicationHosts(io.pgwarden.common.decide.ReplicationHosts.wanted(obs.cluster()));
    }
    for (Action a : actions) {
      log.info("action: {}", a);
      apply(a, obs);
    }
  }

  private void apply(Action a, Observation obs) {
    if (a instanceof Bootstrap b) {
      bootstrap();
    } else if (a instanceof AcquireLeaderKey k) {
      acquire();
    } else if (a instanceof ReleaseLeaderKey r) {
      release();
    } else if (a instanceof Promote p) {
      promote(obs);
    } else if (a instanceof Demote d) {
      pg.stop(d.mode());
      if (d.releaseKey()) {
        release();
      }
    } else if (a instanceof StartPostgres s) {
      pg.start(s.mode(), s.upstream() == null ? null : source(obs, s.upstream()));
    } else if (a instanceof FollowLeader f) {
      pg.follow(source(obs, f.leader()));
    } else if (a instanceof Rewind r) {
      ReplicationSource src = source(obs, r.leader());
      async.submit(new InFlight(InFlight.Kind.REWIND, r.leader()), () -> {
        pg.rewind(src);
        pg.start(StartMode.REPLICA, src);
      });
    } else if (a instanceof Rebuild r) {
      ReplicationSource src = source(obs, r.leader());
      async.submit(new InFlight(InFlight.Kind.BASE_BACKUP, r.leader()), () -> {
        pg.baseBackup(src);
        pg.start(StartMode.REPLICA, src);
      });
    } else if (a instanceof WriteTopology w) {
      writeTopology(w, obs);
    } else if (a instanceof EnsureSlots s) {
      pg.ensureSlots(s.slots());
    } else if (a instanceof Action.MakeSlots s) {
      try {
        pg.makeSlots(s.slots());
      } catch (RuntimeException e) {
        // Only saves the standbys a retry: the primary's loop makes whatever is missing.
        log.warn("could not make replication slots {} ({}): {}; going on without them", s.slots(), s.reason(),
            e.getMessage());
      }
    } else if (a instanceof Action.Reload r) {
      pg.reload();
    } else if (a instanceof Action.SetSyncStandbys s) {
      requireLease("set synchronous standbys");
      pg.setSynchronousStandbys(s.names(), s.count());
    } else if (a instanceof Action.ClearSwitchover c) {
      store.delete(keys.switchover(), callTimeout.get());
      log.info("cleared the pending switchover: {}", c.reason());
    } else if (a instanceof Halt h) {
      throw new FatalAgentException(h.reason());
    } else {
      throw new IllegalStateException("unhandled action " + a);
    }
  }

  private void bootstrap() {
    requireLease("bootstrap");
    if (!async.ready()) {
      // The last attempt failed and is being backed off (it said so). A claim now would have nothing
      // to finish or release it, and bound to our live lease it would keep every node waiting for good.
      log.debug("bootstrap: not claiming /initialize until the last failure's back-off is over");
      return;
    }
    long claimLease = lease.leaseId();
    // The claim is bound to our lease: if we die half-way, it expires and another node may try.
    if (!store.putIfAbsent(keys.initialize(), "", claimLease, callTimeout.get())) {
      log.info("another node claimed /initialize first; not bootstrapping");
      return;
    }
    // initdb can outlast a short ttl: run it off the loop thread so the loop keeps renewing the lease
    // that holds our claim (and publishes "bootstrapping" meanwhile).
    boolean started = async.submit(new InFlight(InFlight.Kind.BOOTSTRAP, me), () -> {
      boolean initialised = false;
      try {
        pg.initdb();
        initialised = true;
        requireClaim(claimLease);
        pg.start(StartMode.PRIMARY, null);
        pg.ensureReplicationRole();
        String sysid = probe.probe().systemId();
        if (sysid == null) {
          throw new ActionFailedException("bootstrap: PostgreSQL started but its system identifier is unreadable");
        }
        store.putIfAbsent(keys.config(), Json.write(bootstrapConfig), 0, callTimeout.get());
        // Permanent from here on: the cluster now has an identity.
        if (!store.putIfValue(keys.initialize(), "", sysid, 0, callTimeout.get())) {
          pg.stop(io.pgwarden.common.decide.DemoteMode.IMMEDIATE);
          throw new ActionFailedException("bootstrap: lost the /initialize claim before recording the system identifier");
        }
        log.info("bootstrapped cluster with system identifier {}", sysid);
      } catch (RuntimeException e) {
        releaseClaim(claimLease, e);
        // WARN: AsyncActions logs the failure itself; this line says whether the cluster is stuck on it.
        // Past initdb this node has data and will not bootstrap again, but another node may.
        log.warn("bootstrap failed: {}; {}", e.getMessage(), initialised ? "released /initialize" : "retrying");
        throw e;
      }
    });
    if (!started) {
      ActionFailedException e = new ActionFailedException(
          "bootstrap failed: the long-action worker did not take it; retrying");
      releaseClaim(claimLease, e);
      throw e;
    }
  }

  /**
   * Deletes /initialize while it is still our unfinished claim, so that a later tick or another node
   * can bootstrap. Never a claim on another lease: once ours expired, another node may be bootstrapping.
   * (The store has no delete-if-lease; between the read and the delete ours would have to expire and
   * another node claim the key, within one round trip.)
   */
  private void releaseClaim(long claimLease, RuntimeException failure) {
    try {
      Duration t = callTimeout.get();
      RawKv kv = store.get(keys.initialize(), t);
      if (kv != null && kv.value().isEmpty() && kv.lease() == claimLease) {
        store.deleteIfValue(keys.initialize(), "", t);
      }
    } catch (RuntimeException cleanup) {
      failure.addSuppressed(cleanup);
    }
  }

  /** Our /initialize claim still exists under our lease: nobody else may be bootstrapping. */
  private void requireClaim(long claimLease) {
    RawKv kv = store.get(keys.initialize(), callTimeout.get());
    if (kv == null || !kv.value().isEmpty() || kv.lease() != claimLease) {
      throw new ActionFailedException("bootstrap: the /initialize claim is gone (lease lost); not starting as primary");
    }
  }

  private void acquire() {
    requireLease("acquire the leader key");
    Duration t = callTimeout.get();
    if (store.putIfAbsent(keys.leader(), me, lease.leaseId(), t)) {
      log.info("acquired the leader key");
      // Armed before a promote in this same decision can make us writable.
      onKeyAcquired.run();
      return;
    }
    if (store.putIfValue(keys.leader(), me, me, lease.leaseId(), t)) {
      log.info("rebound the leader key to my lease {}", Long.toHexString(lease.leaseId()));
      onKeyAcquired.run();
      return;
    }
    throw new ActionFailedException("leader key is held by another member");
  }

  private void release() {
    try {
      if (store.deleteIfValue(keys.leader(), me, callTimeout.get())) {
        log.info("released the leader key");
      }
    } catch (RuntimeException e) {
      // Best effort: the lease expires on its own; we already stopped writes.
      log.warn("could not release the leader key: {}", e.getMessage());
    }
  }

  private void promote(Observation obs) {
    requireLease("promote");
    // In synchronous mode the record names the old term's standbys until the next tick writes the new
    // topology: a commit acknowledged before that, by this node alone, would be missing on them.
    pg.promote(obs.config().synchronousMode() != io.pgwarden.common.model.SynchronousMode.OFF);
    // Lost the lease while promoting? Stop at once: nobody may be writable without the lock.
    if (!lease.isValid()) {
      pg.stop(io.pgwarden.common.decide.DemoteMode.IMMEDIATE);
      throw new ActionFailedException("lost the lease while promoting; stopped PostgreSQL");
    }
  }

  private void writeTopology(WriteTopology w, Observation obs) {
    requireLease("write topology");
    List<HistoryEntry> history = new ArrayList<>(obs.cluster().history());
    HistoryEntry h = w.history();
    if (h != null) {
      history.add(new HistoryEntry(h.term(), h.kind(), h.from(), h.to(), h.timeline(), h.switchLsn(),
          Instant.now().toString(), h.reason()));
    }
    Map<String, String> puts = new LinkedHashMap<>();
    puts.put(keys.topology(), Json.write(w.topology()));
    boolean historyUnparsable = obs.cluster().errors().stream().anyMatch(e -> e.startsWith(keys.history() + ":"));
    if (historyUnparsable) {
      // Its entries could not be read, so rewriting it would replace the whole audit trail with this entry.
      log.warn("history left as it is: it could not be parsed; this entry is not recorded: {}", h);
    } else {
      puts.put(keys.history(), Json.write(history));
    }
    if (!store.putAllIfValue(keys.leader(), me, puts, callTimeout.get())) {
      throw new ActionFailedException("topology not written: the leader key no longer names me");
    }
  }

  private void requireLease(String what) {
    if (!lease.isValid()) {
      throw new ActionFailedException("refusing to " + what + ": my lease is not valid");
    }
  }

  private static ReplicationSource source(Observation obs, String member) {
    MemberStatus s = obs.cluster().member(member);
    if (s == null || s.connUrl() == null) {
      throw new ActionFailedException(member + " has not published a connection address");
    }
    return ReplicationSource.parse(member, s.connUrl());
  }
}
