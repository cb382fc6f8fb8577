package io.pgwarden.agent.loop;

import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.agent.port.FatalAgentException;
import io.pgwarden.agent.watchdog.WatchdogFence;
import io.pgwarden.common.config.Keys;
import io.pgwarden.common.decide.Decider;
import io.pgwarden.common.decide.Decision;
import io.pgwarden.common.decide.PublishPolicy;
import io.pgwarden.common.json.Json;
import io.pgwarden.common.lease.LeaseTracker;
import io.pgwarden.common.model.LocalPgState;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Observation;
import io.pgwarden.common.model.Role;
import io.pgwarden.common.model.Tags;
import io.pgwarden.common.time.MonotonicClock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The level-triggered loop: observe everything, decide purely, publish, act, wait. Nothing is
 * remembered between ticks except through observation, so killing the agent at any point and
 * starting it again converges to the same cluster.
 */
public final class ReconcileLoop implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(ReconcileLoop.class);
  private static final Duration ERROR_BACKOFF = Duration.ofSeconds(1);

  /** Where a node can be reached; published with its status. */
  public record Addresses(String apiUrl, String connUrl, String version) {}

  private final String scope;
  private final String me;
  private final Tags tags;
  private final Keys keys;
  private final Observer observer;
  private final Decider decider;
  private final ActionExecutor executor;
  private final ClusterStore store;
  private final LeaseTracker lease;
  private final WakeupSignal wakeup;
  private final MonotonicClock clock;
  private final Addresses addresses;
  private final OperatorRequests requests;
  private final WatchdogFence fence;
  private final Callbacks callbacks;
  private final AtomicReference<AgentStatus> status = new AtomicReference<>();
  private volatile boolean running = true;
  private String lastSummary;
  // Nano time of the first of the ticks failing in a row; null while they succeed.
  private Long failingSince;
  private String lastTickError;
  private static final Duration REPEAT_LOG_EVERY = Duration.ofMinutes(1);
  private String lastActionError;
  private int actionErrorRepeats;
  private long actionErrorLoggedAt;
  private MemberStatus lastPublished;
  private long ticks;

  public ReconcileLoop(String scope, String me, Tags tags, Keys keys, Observer observer, Decider decider,
      ActionExecutor executor, ClusterStore store, LeaseTracker lease, WakeupSignal wakeup, MonotonicClock clock,
      Addresses addresses, OperatorRequests requests, WatchdogFence fence) {
    this(scope, me, tags, keys, observer, decider, executor, store, lease, wakeup, clock, addresses, requests, fence,
        Callbacks.none());
  }

  public ReconcileLoop(String scope, String me, Tags tags, Keys keys, Observer observer, Decider decider,
      ActionExecutor executor, ClusterStore store, LeaseTracker lease, WakeupSignal wakeup, MonotonicClock clock,
      Addresses addresses, OperatorRequests requests, WatchdogFence fence, Callbacks callbacks) {
    this.callbacks = callbacks;
    this.scope = scope;
    this.me = me;
    this.tags = tags;
    this.keys = keys;
    this.observer = observer;
    this.decider = decider;
    this.executor = executor;
    this.store = store;
    this.lease = lease;
    this.wakeup = wakeup;
    this.clock = clock;
    this.addresses = addresses;
    this.requests = requests;
    this.fence = fence;
  }

  public AtomicReference<AgentStatus> status() {
    return status;
  }

  /** Runs until {@link #stop()}; only {@link FatalAgentException} escapes. */
  @Override
  public void run() {
    MDC.put("cluster", scope);
    MDC.put("node", me);
    try {
      while (running) {
        Duration next = tick();
        try {
          wakeup.await(next);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    } finally {
      MDC.clear();
    }
  }

  public void stop() {
    running = false;
    wakeup.signal();
  }

  /** One observe-decide-act round; returns how long to wait before the next. */
  public Duration tick() {
    ticks++;
    MDC.put("tick", Long.toString(ticks));
    long start = clock.nanoTime();
    Observation obs;
    Decision d;
    try {
      obs = observer.observe();
      // Right after the renewal: the watchdog's deadline follows the lease's before anything can act.
      fence.onTick(obs);
      callbacks.observed(obs.local());
      d = decider.decide(obs);
    } catch (FatalAgentException e) {
      throw e;
    } catch (RuntimeException e) {
      return failedTick(start, e);
    }
    failingSince = null;
    lastTickError = null;
    MemberStatus member = memberStatus(obs);
    publish(obs, member);
    logDecision(d);
    Duration next = d.requeueAfter();
    try {
      executor.apply(d.actions(), obs);
      if (!d.actions().isEmpty()) {
        lastActionError = null;
      }
    } catch (FatalAgentException e) {
      throw e;
    } catch (RuntimeException e) {
      next = actionFailed(e, obs);
      lastSummary = null;
    }
    if (obs.request() != null && d.requestTaken()) {
      requests.done(obs.request());
    }
    long millis = Duration.ofNanos(clock.nanoTime() - start).toMillis();
    status.set(new AgentStatus(member, obs, d, start, millis, ticks));
    return next;
  }

  /**
   * The first failure of a kind is logged with its stack trace and tried again after a second; the same
   * failure again (pg_ctl start refusing a setting, a data directory it may not write) every loop_wait, and
   * logged once a minute with a count rather than a stack trace per try.
   */
  private Duration actionFailed(RuntimeException e, Observation obs) {
    String why = e.getMessage() != null ? e.getMessage() : e.toString();
    long now = clock.nanoTime();
    if (!why.equals(lastActionError)) {
      log.error("action failed, will look again: {}", why, e);
      lastActionError = why;
      actionErrorRepeats = 0;
      actionErrorLoggedAt = now;
      return ERROR_BACKOFF;
    }
    actionErrorRepeats++;
    if (now - actionErrorLoggedAt >= REPEAT_LOG_EVERY.toNanos()) {
      log.error("action failed again ({} more times since it was last logged), will look again: {}", actionErrorRepeats,
          why);
      actionErrorRepeats = 0;
      actionErrorLoggedAt = now;
    } else {
      log.debug("action failed again: {}", why);
    }
    Duration loopWait = obs.config().loopWaitDuration();
    return loopWait.compareTo(ERROR_BACKOFF) > 0 ? loopWait : ERROR_BACKOFF;
  }

  /**
   * A fault nothing foresaw (a bug, a value no check caught) must not end the process at once, taking
   * every agent of the cluster down with it when they all read the same value; nor may an agent run on for
   * good without deciding anything, a primary among them. So a failed tick is logged and tried again, and
   * once ticks have failed for longer than the ttl the agent stops, as one whose process died: its lease runs
   * out, its watchdog (when armed) stops PostgreSQL, and the others elect a leader without it.
   */
  private Duration failedTick(long start, RuntimeException e) {
    if (failingSince == null) {
      failingSince = start;
    }
    Duration failing = Duration.ofNanos(clock.nanoTime() - failingSince);
    String why = e.getMessage() != null ? e.getMessage() : e.toString();
    if (failing.compareTo(observer.config().ttlDuration()) > 0) {
      throw new FatalAgentException("every tick has failed for " + failing.toSeconds() + " s (longer than the ttl): "
          + why, e);
    }
    if (!why.equals(lastTickError)) {
      log.error("tick failed, will look again in {} ms: {}", ERROR_BACKOFF.toMillis(), why, e);
    }
    lastTickError = why;
    lastSummary = null;
    return ERROR_BACKOFF;
  }

  private void logDecision(Decision d) {
    if (!d.summary().equals(lastSummary)) {
      log.info(d.summary());
      lastSummary = d.summary();
    } else {
      log.debug(d.summary());
    }
  }

  private MemberStatus memberStatus(Observation obs) {
    LocalPgState l = obs.local();
    Role role = !l.running() ? Role.UNKNOWN : l.inRecovery() ? Role.REPLICA : Role.PRIMARY;
    String state;
    if (obs.inFlight() != null) {
      state = obs.inFlight().kind().state();
    } else if (l.running()) {
      state = "running";
    } else if (l.isUnknown()) {
      state = "unknown";
    } else {
      state = "stopped";
    }
    Long term = obs.cluster().topology() == null ? null : obs.cluster().topology().term();
    return new MemberStatus(me, role, state, l.timeline(), l.lsn(), l.replayedLsn(), l.streaming(), l.upstream(),
        addresses.apiUrl(), addresses.connUrl(), l.systemId(), tags, addresses.version(), term,
        l.running() && !l.pendingRestart().isEmpty(), l.running() ? l.parameterErrors() : null);
  }

  /** Our status, bound to our lease; when it is written is {@link PublishPolicy#shouldPublish}'s call. */
  private void publish(Observation obs, MemberStatus member) {
    // Compared as records and serialised only when written, not on every tick.
    if (!PublishPolicy.shouldPublish(obs.cluster().reachable(), lease.isValid(),
        obs.cluster().hasLeader(), obs.cluster().members().get(me), member, lease.leaseId(), obs.leaderAbsentSince(),
        member.equals(lastPublished))) {
      return;
    }
    try {
      store.put(keys.member(me), Json.write(member), lease.leaseId(), observer.callTimeout());
      lastPublished = member;
    } catch (RuntimeException e) {
      log.warn("could not publish my status: {}", e.getMessage());
    }
  }
}
