package io.pgwarden.agent.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseGrantResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.agent.port.EtcdUnavailableException;
import io.pgwarden.agent.port.LeaseLostException;
import io.pgwarden.agent.port.PghaException;
import io.pgwarden.agent.port.RawKv;
import io.pgwarden.agent.port.RawScope;
import io.pgwarden.common.config.EtcdConfig;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ClusterStore} on jetcd. Every call waits at most the caller's timeout; the jetcd client is
 * configured to fail fast rather than queue calls while etcd is unreachable, so a write the caller was
 * told failed is not sent later when etcd comes back.
 */
public final class JetcdClusterStore implements ClusterStore {
  private static final Logger log = LoggerFactory.getLogger(JetcdClusterStore.class);

  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
  /**
   * Upper bound for any unary RPC on the wire. Callers' timeouts are shorter; this only makes sure a
   * call we stopped waiting for does not linger in gRPC forever.
   */
  static final Duration MAX_RPC_DURATION = Duration.ofSeconds(30);
  // grpc-java refuses keepalive times under 10 s, and etcd answers pings more often than every 5 s
  // with GOAWAY too_many_pings.
  static final Duration KEEPALIVE_TIME = Duration.ofSeconds(10);
  static final Duration KEEPALIVE_TIMEOUT = Duration.ofSeconds(5);
  static final Duration REWATCH_MIN_BACKOFF = Duration.ofMillis(100);
  /** How long a renewal that failed at once waits for a reconnect before it gives up (keepAliveOnce). */
  static final Duration RECONNECT_WAIT = Duration.ofSeconds(1);
  static final Duration REWATCH_MAX_BACKOFF = Duration.ofSeconds(2);

  /** Codes that say "etcd cannot serve right now"; anything else is a real error of the request. */
  private static final Set<ErrorCode> UNAVAILABLE_CODES = EnumSet.of(
      ErrorCode.UNAVAILABLE, ErrorCode.DEADLINE_EXCEEDED, ErrorCode.CANCELLED, ErrorCode.ABORTED,
      ErrorCode.RESOURCE_EXHAUSTED, ErrorCode.INTERNAL, ErrorCode.UNKNOWN);

  private final Client client;
  private final KV kv;
  private final Lease lease;
  private final Watch watch;
  private final ScheduledExecutorService rewatch;
  private final String description;
  private final LeaseChannel leaseChannel;
  private final KeepAliveStream keepAliveStream = new KeepAliveStream();
  private final AtomicLong lastWriteRevision = new AtomicLong();
  private final AtomicLong uncertainWrites = new AtomicLong();

  /** jetcd's gRPC channel, to cut its reconnect backoff short; null when it cannot be had (see channelOf). */
  private final ManagedChannel channel;

  private JetcdClusterStore(Client client, String description, LeaseChannel leaseChannel) {
    this.leaseChannel = leaseChannel;
    this.client = client;
    this.channel = channelOf(client);
    this.kv = client.getKVClient();
    this.lease = client.getLeaseClient();
    this.watch = client.getWatchClient();
    this.description = description;
    this.rewatch = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "pgwarden-etcd-rewatch");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Builds a client for {@code cfg}. No network round trip happens here; the first call reports an
   * unreachable etcd.
   *
   * @param resolvedPassword the password of {@code cfg.auth()} as resolved by Main (from file or
   *     environment); null means use {@code cfg.auth().password()}
   */
  static final int MAX_SCOPE_BYTES = 64 * 1024 * 1024;

  /**
   * The Vert.x jetcd runs on, without its file resolver: by default every Vert.x makes a
   * {@code vertx-cache-<uuid>} directory in the temporary directory to serve classpath files from, which the
   * agent never does, and an agent stopped by SIGKILL (or the CLI, on every run) left it behind — hundreds on
   * a node after a while. Vert.x comes with jetcd-core and is not declared on its own: declaring it would
   * change which Netty the build resolves.
   */
  static final VertxOptions VERTX_OPTIONS = new VertxOptions().setFileSystemOptions(
      new FileSystemOptions().setClassPathResolvingEnabled(false).setFileCachingEnabled(false))
      // Its checker thread wakes every second by default to look for a blocked event loop: ~5 % of an idle
      // agent's CPU. Every 10 s still reports an event loop stuck long enough to matter.
      .setBlockedThreadCheckInterval(10).setBlockedThreadCheckIntervalUnit(TimeUnit.SECONDS);

  public static JetcdClusterStore connect(EtcdConfig cfg, String resolvedPassword) {
    Objects.requireNonNull(cfg, "cfg");
    ClientBuilder b = Client.builder()
        .endpoints(cfg.endpoints().toArray(String[]::new))
        .connectTimeout(CONNECT_TIMEOUT)
        .keepaliveTime(KEEPALIVE_TIME)
        .keepaliveTimeout(KEEPALIVE_TIMEOUT)
        // etcd refuses pings on idle connections (PermitWithoutStream=false) and would close them.
        .keepaliveWithoutCalls(false)
        // Fail at once while there is no connection instead of parking the call until etcd is back.
        .waitForReady(false)
        // jetcd retries only reads and auth-token refreshes; keep those short and finite.
        .retryMaxAttempts(2)
        .retryDelay(100)
        .retryMaxDelay(1000)
        .retryMaxDuration(Duration.ofSeconds(5))
        // gRPC's default 4 MiB inbound limit would make every full read of a larger scope fail while lease
        // renewals kept succeeding; a scope is read whole, so allow well beyond any sane cluster's size.
        .maxInboundMessageSize(MAX_SCOPE_BYTES)
        .interceptor(new UnaryDeadline(MAX_RPC_DURATION));
    LeaseChannel leaseChannel = new LeaseChannel();
    b.interceptor(leaseChannel);
    String who = "";
    if (cfg.auth() != null) {
      String password = resolvedPassword != null ? resolvedPassword : cfg.auth().password();
      if (password == null) {
        throw new IllegalArgumentException("etcd auth: no password resolved for user " + cfg.auth().username());
      }
      b.user(ByteSequence.from(cfg.auth().username(), UTF_8)).password(ByteSequence.from(password, UTF_8));
      who = " as " + cfg.auth().username();
    }
    if (cfg.tls() != null) {
      EtcdConfig.TlsConfig tls = cfg.tls();
      try {
        b.sslContext(ssl -> {
          ssl.trustManager(new File(tls.ca()));
          if (tls.cert() != null) {
            // netty wants a PKCS#8 key ("BEGIN PRIVATE KEY").
            ssl.keyManager(new File(tls.cert()), new File(tls.key()));
          }
        });
      } catch (SSLException | IllegalArgumentException e) {
        throw new PghaException("etcd tls: cannot load ca " + tls.ca() + ", cert " + tls.cert() + ", key "
            + tls.key(), e);
      }
    }
    String description = String.join(",", cfg.endpoints()) + who + (cfg.tls() != null ? " (tls)" : "");
    log.debug("etcd client for {}", description);
    // Created last, so nothing above can fail and leave its threads behind; jetcd closes it with the client.
    b.vertx(Vertx.vertx(VERTX_OPTIONS));
    return new JetcdClusterStore(b.build(), description, leaseChannel);
  }

  // ---- leases ----

  @Override
  public Grant grantLease(Duration ttl, Duration timeout) {
    // etcd leases have whole-second TTLs; never round a TTL down below what the caller asked for.
    long seconds = Math.max(1, (ttl.toMillis() + 999) / 1000);
    LeaseGrantResponse r = await("grant lease", lease.grant(seconds), timeout, 0);
    return new Grant(r.getID(), Duration.ofSeconds(r.getTTL()));
  }

  @Override
  public Duration keepAliveOnce(long leaseId, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      return renew(leaseId, timeout, deadline);
    } catch (EtcdUnavailableException e) {
      // Failed before its timeout, as gRPC fails calls while it waits to reconnect: etcd may be back already.
      // The lease deadline is what this renewal is for, so reconnect now and try once more within the same
      // timeout, rather than leave a primary's renewal to the next tick, which may be past its deadline. One
      // that used up its timeout (etcd slow, not away) is reported as it failed.
      if (deadline - System.nanoTime() <= 0 || !reconnected(deadline) || deadline - System.nanoTime() <= 0) {
        throw e;
      }
      log.debug("etcd reachable again after a failed keep-alive ({}); renewing once more", e.getMessage());
      return renew(leaseId, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())), deadline);
    }
  }

  private Duration renew(long leaseId, Duration timeout, long deadline) {
    Channel channel = leaseChannel.channel;
    CallOptions options = leaseChannel.options;
    if (channel != null && options != null) {
      KeepAliveStream.Answer a;
      try {
        a = keepAliveStream.keepAlive(channel, options, leaseId, timeout);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new PghaException("interrupted during etcd keep-alive", e);
      }
      if (a == null) {
        reconnectNow();
        throw new EtcdUnavailableException("etcd keep-alive timed out after " + timeout.toMillis() + " ms", null);
      }
      if (a.failure() == null) {
        if (a.ttl() <= 0) {
          throw new LeaseLostException(leaseId);
        }
        return Duration.ofSeconds(a.ttl());
      }
      // The stream broke (etcd restarted, a stale auth token, ...): renew once the way jetcd does, which
      // also lets jetcd refresh what it needs; the next renewal opens a new stream.
      log.debug("keep-alive stream failed ({}); renewing through jetcd", a.failure());
      timeout = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }
    LeaseKeepAliveResponse r = await("keep-alive", lease.keepAliveOnce(leaseId), timeout, leaseId);
    // etcd answers a keep-alive for an unknown lease with TTL 0 rather than an error.
    if (r.getTTL() <= 0) {
      throw new LeaseLostException(leaseId);
    }
    return Duration.ofSeconds(r.getTTL());
  }

  /**
   * The revision of the latest write through this store that changed something (0: none yet). A view
   * older than it may not show our own write.
   */
  public long lastWriteRevision() {
    return lastWriteRevision.get();
  }

  /** How many writes through this store ended without a known outcome (failed, timed out, lease revokes). */
  public long uncertainWrites() {
    return uncertainWrites.get();
  }

  private void wrote(long revision) {
    lastWriteRevision.accumulateAndGet(revision, Math::max);
  }

  /** How many keep-alive streams were opened so far (for tests). */
  long keepAliveStreamsOpened() {
    return keepAliveStream.opened();
  }

  @Override
  public void revokeLease(long leaseId, Duration timeout) {
    try {
      uncertainWrites.incrementAndGet(); // deletes the keys bound to it, at a revision not worth tracking
      await("revoke lease", lease.revoke(leaseId), timeout, leaseId);
    } catch (LeaseLostException e) {
      log.debug("lease {} already gone when revoking", Long.toHexString(leaseId));
    }
  }

  // ---- reads ----

  @Override
  public RawScope readPrefix(String prefix, Duration timeout) {
    if (prefix == null || prefix.isEmpty()) {
      throw new IllegalArgumentException("prefix must not be empty");
    }
    GetResponse r = await("read " + prefix, kv.get(bytes(prefix), GetOption.builder().isPrefix(true).build()),
        timeout, 0);
    List<RawKv> kvs = new ArrayList<>(r.getKvs().size());
    for (KeyValue k : r.getKvs()) {
      kvs.add(raw(k));
    }
    return new RawScope(r.getHeader().getRevision(), kvs);
  }

  @Override
  public RawKv get(String key, Duration timeout) {
    GetResponse r = await("get " + key, kv.get(bytes(key)), timeout, 0);
    return r.getKvs().isEmpty() ? null : raw(r.getKvs().get(0));
  }

  // ---- writes ----

  @Override
  public void put(String key, String value, long leaseId, Duration timeout) {
    try {
      wrote(await("put " + key, kv.put(bytes(key), bytes(value), putOption(leaseId)), timeout, leaseId)
          .getHeader().getRevision());
    } catch (RuntimeException e) {
      uncertainWrites.incrementAndGet();
      throw e;
    }
  }

  @Override
  public boolean putIfAbsent(String key, String value, long leaseId, Duration timeout) {
    return commit("create " + key, timeout, leaseId,
        List.of(new Cmp(bytes(key), Cmp.Op.EQUAL, CmpTarget.version(0))),
        List.of(Op.put(bytes(key), bytes(value), putOption(leaseId))));
  }

  @Override
  public boolean putAllIfValue(String guardKey, String guardValue, Map<String, String> puts, Duration timeout) {
    List<Op> ops = new ArrayList<>(puts.size());
    puts.forEach((k, v) -> ops.add(Op.put(bytes(k), bytes(v), PutOption.DEFAULT)));
    return commit("put " + puts.keySet() + " guarded by " + guardKey, timeout, 0,
        List.of(new Cmp(bytes(guardKey), Cmp.Op.EQUAL, CmpTarget.value(bytes(guardValue)))), ops);
  }

  @Override
  public boolean putIfValue(String key, String expectedValue, String newValue, long leaseId, Duration timeout) {
    return commit("swap " + key, timeout, leaseId,
        List.of(new Cmp(bytes(key), Cmp.Op.EQUAL, CmpTarget.value(bytes(expectedValue)))),
        List.of(Op.put(bytes(key), bytes(newValue), putOption(leaseId))));
  }

  @Override
  public boolean putIfModRevision(String key, String value, long modRevision, Duration timeout) {
    return commit("put " + key + " at revision " + modRevision, timeout, 0,
        List.of(new Cmp(bytes(key), Cmp.Op.EQUAL, CmpTarget.modRevision(modRevision))),
        List.of(Op.put(bytes(key), bytes(value), PutOption.DEFAULT)));
  }

  @Override
  public boolean deleteIfValue(String key, String expectedValue, Duration timeout) {
    return commit("delete " + key, timeout, 0,
        List.of(new Cmp(bytes(key), Cmp.Op.EQUAL, CmpTarget.value(bytes(expectedValue)))),
        List.of(Op.delete(bytes(key), DeleteOption.DEFAULT)));
  }

  @Override
  public void delete(String key, Duration timeout) {
    try {
      io.etcd.jetcd.kv.DeleteResponse r = await("delete " + key, kv.delete(bytes(key)), timeout, 0);
      if (r.getDeleted() > 0) {
        wrote(r.getHeader().getRevision());
      }
    } catch (RuntimeException e) {
      uncertainWrites.incrementAndGet();
      throw e;
    }
  }

  @Override
  public long deletePrefix(String prefix, Duration timeout) {
    try {
      io.etcd.jetcd.kv.DeleteResponse r = await("delete " + prefix + "*",
          kv.delete(bytes(prefix), DeleteOption.builder().isPrefix(true).build()), timeout, 0);
      if (r.getDeleted() > 0) {
        wrote(r.getHeader().getRevision());
      }
      return r.getDeleted();
    } catch (RuntimeException e) {
      uncertainWrites.incrementAndGet();
      throw e;
    }
  }

  private boolean commit(String op, Duration timeout, long leaseId, List<Cmp> ifs, List<Op> thens) {
    // TxnOption.DEFAULT: jetcd does not retry a txn on UNAVAILABLE, since it might have been applied.
    CompletableFuture<TxnResponse> f = kv.txn()
        .If(ifs.toArray(Cmp[]::new))
        .Then(thens.toArray(Op[]::new))
        .commit();
    TxnResponse r;
    try {
      r = await(op, f, timeout, leaseId);
    } catch (RuntimeException e) {
      // Timed out or failed on the wire: it may still have been applied.
      uncertainWrites.incrementAndGet();
      throw e;
    }
    if (r.isSucceeded()) {
      wrote(r.getHeader().getRevision());
    }
    return r.isSucceeded();
  }

  // ---- watch ----

  @Override
  public AutoCloseable watchPrefix(String prefix, ScopeListener listener) {
    if (prefix == null || prefix.isEmpty()) {
      throw new IllegalArgumentException("prefix must not be empty");
    }
    PrefixWatch w = new PrefixWatch(prefix, Objects.requireNonNull(listener, "listener"));
    w.open();
    return w;
  }

  @Override
  public void close() {
    keepAliveStream.close("store closed");
    rewatch.shutdownNow();
    client.close();
    log.debug("etcd client for {} closed", description);
  }

  /**
   * One logical watch that survives broken streams. The caller gets {@code started(revision)} whenever a
   * watch is (re-)established, including the first time, since changes between its own read and the
   * start of the watch are not replayed, and {@code broken()} once when an established watch breaks.
   *
   * <p>Each attempt gets a generation number; callbacks from an older attempt are ignored, so a late
   * error of a replaced watcher cannot trigger a second re-watch. All jetcd watch calls happen on the
   * {@code rewatch} thread: jetcd invokes our listener while holding its own lock, so doing them from
   * a callback could deadlock.
   */
  private final class PrefixWatch implements AutoCloseable {
    private final String prefix;
    private final ScopeListener listener;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong generation = new AtomicLong();
    private final AtomicLong backoffMillis = new AtomicLong(REWATCH_MIN_BACKOFF.toMillis());
    /** Whether the current streak of failures started from an established watch (then notify once). */
    private final AtomicBoolean established = new AtomicBoolean();
    private volatile Watch.Watcher watcher;

    PrefixWatch(String prefix, ScopeListener listener) {
      this.prefix = prefix;
      this.listener = listener;
    }

    /** Starts a fresh watch at etcd's current revision; the caller's re-read covers anything earlier. */
    void open() {
      if (closed.get()) {
        return;
      }
      long gen = generation.get();
      WatchOption opt = WatchOption.builder()
          .isPrefix(true)
          .withRequireLeader(true)
          .withCreateNotify(true)
          .build();
      try {
        watcher = watch.watch(bytes(prefix), opt, new Listener(gen));
      } catch (RuntimeException e) {
        // The client is closing; nothing left to watch with.
        log.debug("cannot watch {}: {}", prefix, e.toString());
        return;
      }
      if (closed.get()) {
        watcher.close();
      }
    }

    private void broken(long gen, String why, Throwable cause) {
      if (closed.get() || !generation.compareAndSet(gen, gen + 1)) {
        return;
      }
      long delay = backoffMillis.getAndUpdate(d -> Math.min(d * 2, REWATCH_MAX_BACKOFF.toMillis()));
      if (established.getAndSet(false)) {
        log.warn("watch on {} {}; re-watching", prefix, why, cause);
        notifyCaller(listener::broken);
      } else {
        log.debug("watch on {} {} again; retry in {} ms", prefix, why, delay, cause);
      }
      try {
        // Close the broken watcher now, so jetcd's own resume logic does not revive it meanwhile;
        // the single rewatch thread keeps the close before the re-open.
        rewatch.execute(() -> {
          Watch.Watcher old = watcher;
          if (old != null) {
            old.close();
          }
        });
        rewatch.schedule(this::open, delay, TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        log.debug("store closed; not re-watching {}", prefix);
      }
    }

    private void established(long gen, long revision) {
      if (closed.get() || generation.get() != gen) {
        return;
      }
      backoffMillis.set(REWATCH_MIN_BACKOFF.toMillis());
      established.set(true);
      log.debug("watch on {} established at revision {}", prefix, revision);
      // Changes made while no watch was running are not replayed; the caller must re-read.
      notifyCaller(() -> listener.started(revision));
    }

    private void notifyCaller(Runnable call) {
      try {
        call.run();
      } catch (RuntimeException e) {
        log.error("watch callback for {} failed", prefix, e);
      }
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        generation.incrementAndGet();
        Watch.Watcher w = watcher;
        if (w != null) {
          w.close();
        }
      }
    }

    private final class Listener implements Watch.Listener {
      private final long gen;

      Listener(long gen) {
        this.gen = gen;
      }

      @Override
      public void onNext(WatchResponse response) {
        if (closed.get() || generation.get() != gen) {
          return;
        }
        if (response.isCreatedNotify()) {
          established(gen, response.getHeader().getRevision());
          return;
        }
        // One response may carry several revisions, in order; a transaction's events share one.
        List<RawKv> puts = new ArrayList<>();
        List<String> deletes = new ArrayList<>();
        long revision = 0;
        for (WatchEvent e : response.getEvents()) {
          long r = e.getKeyValue().getModRevision();
          if (r != revision && revision != 0) {
            deliver(puts, deletes, revision);
            puts = new ArrayList<>();
            deletes = new ArrayList<>();
          }
          revision = r;
          if (e.getEventType() == WatchEvent.EventType.PUT) {
            puts.add(raw(e.getKeyValue()));
          } else if (e.getEventType() == WatchEvent.EventType.DELETE) {
            deletes.add(e.getKeyValue().getKey().toString(UTF_8));
          } else {
            // Never sent by etcd; a change we cannot apply must not be skipped silently.
            broken(gen, "sent an unknown event type " + e.getEventType(), null);
            return;
          }
        }
        if (revision != 0) {
          deliver(puts, deletes, revision);
        }
      }

      private void deliver(List<RawKv> puts, List<String> deletes, long revision) {
        List<RawKv> p = List.copyOf(puts);
        List<String> d = List.copyOf(deletes);
        notifyCaller(() -> listener.changed(p, d, revision));
      }

      @Override
      public void onError(Throwable t) {
        broken(gen, "failed (" + codeOf(t) + ")", t);
      }

      @Override
      public void onCompleted() {
        broken(gen, "ended", null);
      }
    }
  }

  // ---- plumbing ----

  /**
   * Waits for {@code f}; {@code leaseId} != 0 means a NOT_FOUND answer is about that lease. A call that failed
   * for want of etcd asks gRPC to reconnect at once (see {@link #reconnectNow}).
   */
  private <T> T await(String op, CompletableFuture<T> f, Duration timeout, long leaseId) {
    try {
      return f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      reconnectNow();
      throw new EtcdUnavailableException("etcd " + op + " timed out after " + timeout.toMillis() + " ms", e);
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      throw new PghaException("interrupted during etcd " + op, e);
    } catch (ExecutionException | CompletionException e) {
      RuntimeException r = translate(op, e.getCause() != null ? e.getCause() : e, leaseId);
      if (r instanceof EtcdUnavailableException) {
        reconnectNow();
      }
      throw r;
    }
  }

  /**
   * gRPC waits longer and longer between attempts to reach a server it lost (1 s, then 1.6 times more each
   * time, up to 2 minutes), and meanwhile fails every call at once. etcd back after a 3-s outage was then
   * reached only ~2 s later, with a primary's lease running out in between (the chaos matrix's "etcd stopped
   * briefly" row: its watchdog stopped PostgreSQL, and the agent started it again). After a failed call the
   * next attempt is now made at once, so the agent tries as often as it calls etcd: about once a tick.
   */
  private void reconnectNow() {
    if (channel != null) {
      channel.resetConnectBackoff();
    }
  }

  /**
   * Asks gRPC to reconnect now and waits, until {@code deadline} and for a second at most, for the outcome:
   * true when the channel is ready, false when the attempt failed (etcd still away) or took too long.
   */
  private boolean reconnected(long deadline) {
    if (channel == null) {
      return false;
    }
    long until = Math.min(deadline, System.nanoTime() + RECONNECT_WAIT.toNanos());
    channel.resetConnectBackoff();
    io.grpc.ConnectivityState state = channel.getState(true);
    boolean attempted = false;
    while (state != io.grpc.ConnectivityState.READY) {
      if (state == io.grpc.ConnectivityState.CONNECTING) {
        attempted = true;
      } else if (attempted || state == io.grpc.ConnectivityState.SHUTDOWN) {
        // The attempt the reset set off has failed: etcd is still away.
        return false;
      }
      long left = until - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      java.util.concurrent.CountDownLatch changed = new java.util.concurrent.CountDownLatch(1);
      channel.notifyWhenStateChanged(state, changed::countDown);
      try {
        changed.await(left, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
      state = channel.getState(false);
    }
    return true;
  }

  /**
   * jetcd keeps its channel to itself (ClientImpl's connection manager, jetcd 0.8.x). Reached by reflection,
   * which JetcdClusterStoreIT checks on the pinned version; should a later jetcd move it, the agent works
   * as before, reconnecting at gRPC's own pace, and says so once.
   */
  static ManagedChannel channelOf(Client client) {
    try {
      java.lang.reflect.Field f = client.getClass().getDeclaredField("connectionManager");
      f.setAccessible(true);
      Object manager = f.get(client);
      java.lang.reflect.Method m = manager.getClass().getDeclaredMethod("getChannel");
      m.setAccessible(true);
      return (ManagedChannel) m.invoke(manager);
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.warn("cannot reach jetcd's gRPC channel ({}); after an etcd outage this agent reconnects only at gRPC's"
          + " backoff, up to 2 minutes apart", e.toString());
      return null;
    }
  }

  /** For tests: whether a failed call can cut gRPC's reconnect backoff short. */
  boolean reconnectsAtOnce() {
    return channel != null;
  }

  static RuntimeException translate(String op, Throwable cause, long leaseId) {
    ErrorCode code = codeOf(cause);
    if (code == ErrorCode.NOT_FOUND && leaseId != 0) {
      // The only NOT_FOUND etcd's KV and lease APIs give is "requested lease not found".
      LeaseLostException lost = new LeaseLostException(leaseId);
      lost.initCause(cause);
      return lost;
    }
    if (UNAVAILABLE_CODES.contains(code)) {
      return new EtcdUnavailableException("etcd " + op + " failed: " + code + detail(cause), cause);
    }
    return new PghaException("etcd " + op + " rejected: " + code + detail(cause), cause);
  }

  /**
   * What the innermost cause says (" (Connection refused: /127.0.0.1:2379)"), which names the endpoint and
   * why, where gRPC's own status says only UNAVAILABLE. Empty when there is nothing to add.
   */
  static String detail(Throwable t) {
    String said = null;
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      String m = c instanceof StatusRuntimeException s ? s.getStatus().getDescription() : c.getMessage();
      if (m != null && !m.isBlank()) {
        said = m.strip();
      }
    }
    return said == null ? "" : " (" + said + ")";
  }

  /** jetcd wraps most failures in EtcdException, but some paths (lease keep-alive) pass raw gRPC ones. */
  static ErrorCode codeOf(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof EtcdException) {
        return ((EtcdException) c).getErrorCode();
      }
    }
    Status.Code grpc = Status.fromThrowable(t).getCode();
    if (grpc == Status.Code.OK) {
      return ErrorCode.UNKNOWN;
    }
    try {
      return ErrorCode.valueOf(grpc.name());
    } catch (IllegalArgumentException e) {
      return ErrorCode.UNKNOWN;
    }
  }

  private static PutOption putOption(long leaseId) {
    return leaseId == 0 ? PutOption.DEFAULT : PutOption.builder().withLeaseId(leaseId).build();
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, UTF_8);
  }

  private static RawKv raw(KeyValue k) {
    return new RawKv(k.getKey().toString(UTF_8), k.getValue().toString(UTF_8), k.getModRevision(),
        k.getCreateRevision(), k.getVersion(), k.getLease());
  }

  /**
   * Remembers the channel and call options (TLS, auth credentials) of jetcd's lease calls, for the
   * long-lived keep-alive stream.
   */
  private static final class LeaseChannel implements ClientInterceptor {
    volatile Channel channel;
    volatile CallOptions options;

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      if (method == io.etcd.jetcd.api.LeaseGrpc.getLeaseGrantMethod()
          || method.getFullMethodName().equals(io.etcd.jetcd.api.LeaseGrpc.getLeaseGrantMethod().getFullMethodName())) {
        this.options = options.withDeadline(null);
        this.channel = next;
      }
      return next.newCall(method, options);
    }
  }

  /** Gives every unary call a deadline so a call nobody waits for any more cannot live on in gRPC. */
  private static final class UnaryDeadline implements ClientInterceptor {
    private final Duration max;

    UnaryDeadline(Duration max) {
      this.max = max;
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      if (method.getType() == MethodDescriptor.MethodType.UNARY && options.getDeadline() == null) {
        options = options.withDeadlineAfter(max.toMillis(), TimeUnit.MILLISECONDS);
      }
      return next.newCall(method, options);
    }
  }
}
