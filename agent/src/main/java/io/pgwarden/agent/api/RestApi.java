package io.pgwarden.agent.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.agent.api.HttpTransport.Call;
import io.pgwarden.agent.loop.AgentStatus;
import io.pgwarden.agent.loop.OperatorRequests;
import io.pgwarden.agent.ops.ConfigEdits;
import io.pgwarden.agent.ops.Sizes;
import io.pgwarden.agent.ops.Switchovers;
import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.agent.port.EtcdUnavailableException;
import io.pgwarden.common.config.Credentials;
import io.pgwarden.common.config.Keys;
import io.pgwarden.common.config.HostPort;
import io.pgwarden.common.json.Json;
import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.LocalPgState;
import io.pgwarden.common.model.Lsn;
import io.pgwarden.common.model.Member;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Observation;
import io.pgwarden.common.model.OperatorRequest;
import io.pgwarden.common.model.Switchover;
import io.pgwarden.common.model.WalPosition;
import io.pgwarden.common.time.MonotonicClock;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Patroni-compatible health endpoints, so HAProxy checks written for Patroni work unchanged. Answers
 * only from the loop's last snapshot: it never blocks on etcd or PostgreSQL.
 */
public final class RestApi implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RestApi.class);
  // Changing calls may wait on etcd briefly; health checks never do.
  private static final Duration ETCD_TIMEOUT = Duration.ofSeconds(3);
  // Changing calls wait on etcd for seconds: on threads of their own, a burst of them cannot hold
  // the server's thread, which answers health checks. Beyond the queue they are refused rather than piled up.
  private static final int CHANGE_THREADS = 2;
  private static final int CHANGE_QUEUE = 8;
  // The server cuts off a call not answered within its response limit (30 s) of the request's arrival, and
  // a full queue can hold the last call for four turns of calls that each wait on etcd up to twice
  // ETCD_TIMEOUT: one that waited longer than this is refused, while it still has time for its own.
  private static final Duration QUEUE_PATIENCE = Duration.ofSeconds(15);

  private final HttpTransport transport;
  private final ExecutorService changeThreads;
  private final AtomicReference<AgentStatus> status;
  private final MonotonicClock clock;
  private final Supplier<Duration> livenessBound;
  private final Operations ops;
  private final BasicAuth auth;
  private final boolean clientCertificates;
  private final boolean tls;

  /**
   * What the changing calls need.
   *
   * @param auth who may call them; null: nobody (they answer 403)
   * @param requests restart/reload/reinit handed to this agent's loop
   * @param store where {@code /switchover} is written
   */
  public record Operations(Credentials auth, OperatorRequests requests, ClusterStore store, Keys keys) {}

  public RestApi(HostPort listen, AtomicReference<AgentStatus> status, MonotonicClock clock,
      Supplier<Duration> livenessBound, Operations ops) throws IOException {
    this(listen, status, clock, livenessBound, ops, null);
  }

  /** @param tls null: plain HTTP; else HTTPS only, with this server context */
  public RestApi(HostPort listen, AtomicReference<AgentStatus> status, MonotonicClock clock,
      Supplier<Duration> livenessBound, Operations ops, SSLContext tls) throws IOException {
    this(listen, status, clock, livenessBound, ops, tls, false);
  }

  /**
   * @param tls null: plain HTTP; else HTTPS only, with this server context
   * @param clientCertificates ask TLS clients for a certificate (want, never need: health GETs work
   *     without one); one that {@code tls}'s trust managers verified authenticates changing calls.
   *     Only meaningful when {@code tls} trusts exactly the configured client CA.
   */
  public RestApi(HostPort listen, AtomicReference<AgentStatus> status, MonotonicClock clock,
      Supplier<Duration> livenessBound, Operations ops, SSLContext tls, boolean clientCertificates)
      throws IOException {
    this(listen, status, clock, livenessBound, ops, tls, clientCertificates, HttpTransport.Limits.DEFAULT);
  }

  /** @param limits how long the server waits for requests and answers (tests use shorter ones) */
  RestApi(HostPort listen, AtomicReference<AgentStatus> status, MonotonicClock clock,
      Supplier<Duration> livenessBound, Operations ops, SSLContext tls, boolean clientCertificates,
      HttpTransport.Limits limits) throws IOException {
    if (clientCertificates && tls == null) {
      throw new IllegalArgumentException("client certificates need TLS");
    }
    this.clientCertificates = clientCertificates;
    this.status = status;
    this.clock = clock;
    this.livenessBound = livenessBound;
    this.ops = ops;
    this.auth = new BasicAuth(ops.auth());
    this.changeThreads = new ThreadPoolExecutor(CHANGE_THREADS, CHANGE_THREADS, 0, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(CHANGE_QUEUE), daemons("pgwarden-rest-change"));
    try {
      this.transport = new HttpTransport(listen, tls, clientCertificates, limits, new HttpTransport.Routes() {
        @Override
        public void admit(Call call) {
          authenticate(call);
        }

        @Override
        public void read(Call call) {
          RestApi.this.read(call);
        }

        @Override
        public void change(Call call, String body) {
          queue(call, body);
        }
      });
    } catch (IOException | RuntimeException e) {
      changeThreads.shutdownNow();
      throw e;
    }
    this.tls = tls != null;
  }

  private static ThreadFactory daemons(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  public void start() {
    transport.start();
    String who = auth.configured() && clientCertificates
        ? "need basic auth as " + ops.auth().username() + " or a client certificate from api.tls.client_ca"
        : auth.configured() ? "need basic auth as " + ops.auth().username()
        : clientCertificates ? "need a client certificate from api.tls.client_ca"
        : "are refused (no api.auth or api.tls.client_ca configured)";
    log.info("REST API listening on {} ({}); changing calls {}", transport.address(), tls ? "https" : "http", who);
  }

  /** The bound address; the port is the real one when {@code listen} asked for port 0. */
  public InetSocketAddress address() {
    return transport.address();
  }

  @Override
  public void close() {
    transport.close();
    changeThreads.shutdownNow();
  }

  /**
   * A changing call whose body has arrived, queued for a change thread: they may wait on etcd for
   * seconds, and a burst of them must not hold up anything else.
   */
  private void queue(Call call, String body) {
    long queuedAt = clock.nanoTime();
    try {
      changeThreads.execute(() -> {
        try {
          if (clock.nanoTime() - queuedAt > QUEUE_PATIENCE.toNanos()) {
            send(call, 503, error("waited too long behind other changing calls; try again"));
            return;
          }
          change(call, body);
        } catch (EtcdUnavailableException e) {
          log.warn("REST {} {} from {} failed: {}", call.method(), call.path(), call.remote(), e.getMessage());
          send(call, 503, error("etcd is unavailable; try again"));
        } catch (RuntimeException e) {
          log.warn("REST {} {} from {} failed: {}", call.method(), call.path(), call.remote(), e.toString());
          send(call, 500, error("internal error; the agent's log has it"));
        }
      });
    } catch (RejectedExecutionException busy) {
      send(call, 503, error("too many changing calls at once; try again"));
    }
  }

  private void read(Call call) {
    try {
      URI uri = call.uri();
      String path = uri.getPath();
      Map<String, String> query = query(uri.getRawQuery());
      AgentStatus s = status.get();
      if (s == null) {
        send(call, 503, "{\"state\":\"starting\"}");
        return;
      }
      String body = Json.write(s.member());
      switch (path) {
        case "/", "/primary", "/leader", "/master", "/read-write" -> send(call, isPrimary(s) ? 200 : 503, body);
        case "/replica" -> {
          boolean replica;
          try {
            replica = isReplica(s, query) && hasTags(s, query);
          } catch (IllegalArgumentException e) {
            send(call, 400, error(e.getMessage()));
            return;
          }
          send(call, replica ? 200 : 503, body);
        }
        case "/sync", "/synchronous", "/async", "/asynchronous" -> {
          boolean ok;
          try {
            ok = isStandby(s, query, path.startsWith("/sync")) && hasTags(s, query);
          } catch (IllegalArgumentException e) {
            send(call, 400, error(e.getMessage()));
            return;
          }
          send(call, ok ? 200 : 503, body);
        }
        case "/read-only-sync", "/read-only-synchronous" -> {
          boolean ok;
          try {
            ok = (isPrimary(s) || isStandby(s, query, true)) && hasTags(s, query);
          } catch (IllegalArgumentException e) {
            send(call, 400, error(e.getMessage()));
            return;
          }
          send(call, ok ? 200 : 503, body);
        }
        case "/read-only" -> {
          boolean ok;
          try {
            ok = (isPrimary(s) || isReplica(s, query)) && hasTags(s, query);
          } catch (IllegalArgumentException e) {
            send(call, 400, error(e.getMessage()));
            return;
          }
          send(call, ok ? 200 : 503, body);
        }
        // pgwarden runs no standby clusters, so no member ever leads one; Patroni accepts both spellings.
        case "/standby-leader", "/standby_leader" -> send(call, 503, body);
        case "/patroni" -> send(call, 200, body);
        case "/health" -> send(call, s.observation().local().running() && hasTags(s, query) ? 200 : 503, body);
        case "/liveness" -> send(call, alive(s) ? 200 : 503, body);
        case "/readiness" -> send(call, isReady(s) ? 200 : 503, body);
        case "/cluster" -> send(call, 200, Json.write(cluster(s)));
        case "/history" -> send(call, 200, Json.write(s.observation().cluster().history()));
        case "/config" -> send(call, 200, Json.write(s.observation().config()));
        case "/metrics" -> sendText(call, 200, Metrics.render(s, ops.keys().scope()));
        default -> send(call, 404, "{\"error\":\"no such path\"}");
      }
    } catch (RuntimeException e) {
      log.warn("REST request failed: {}", e.toString());
      send(call, 500, error("internal error; the agent's log has it"));
    }
  }

  /**
   * POST/PUT/PATCH/DELETE: authenticated first, whatever the path and before the body is read or the call
   * queued, so nothing leaks or changes without it and a caller without credentials takes no change
   * thread's queue slot. Answers 401 or 403 itself.
   */
  private void authenticate(Call call) {
    String method = call.method();
    String path = call.path();
    String certificate = clientCertificates ? call.clientCertificate() : null;
    BasicAuth.Verdict basic = auth.check(call.header("Authorization"));
    if (certificate == null && basic != BasicAuth.Verdict.OK) {
      if (basic == BasicAuth.Verdict.NOT_CONFIGURED && !clientCertificates) {
        log.warn("refused {} {} from {}: no api.auth or api.tls.client_ca configured", method, path, call.remote());
        call.refuse(403, error("changing calls are disabled: this agent has no api.auth or api.tls.client_ca configured"));
        return;
      }
      log.warn("refused {} {} from {}: {}", method, path, call.remote(),
          basic == BasicAuth.Verdict.WRONG ? "wrong credentials" : "no credentials and no client certificate");
      if (auth.configured()) {
        call.setHeader("WWW-Authenticate", "Basic realm=\"pgwarden\"");
      }
      call.refuse(401, error(clientCertificates && !auth.configured()
          ? "authentication required: a client certificate from api.tls.client_ca"
          : "authentication required"));
      return;
    }
    if (certificate != null && basic != BasicAuth.Verdict.OK) {
      log.info("{} {} from {} authenticated by client certificate {}", method, path, call.remote(), certificate);
    }
  }

  /** POST/PUT/PATCH/DELETE of an authenticated caller, on a change thread. */
  private void change(Call call, String body) {
    String method = call.method();
    String path = call.path();
    if (method.equals("POST")) {
      switch (path) {
        case "/restart" -> restart(call, body);
        case "/reload" -> request(call, OperatorRequest.RELOAD);
        // Patroni's name for it, which its tools call.
        case "/reinit", "/reinitialize" -> request(call, OperatorRequest.REINIT);
        case "/switchover" -> switchover(call, body, false);
        case "/failover" -> switchover(call, body, true);
        default -> send(call, 404, error("no such path"));
      }
    } else if (method.equals("DELETE") && path.equals("/switchover")) {
      cancelSwitchover(call);
    } else if ((method.equals("PATCH") || method.equals("PUT")) && path.equals("/config")) {
      editConfig(call, body, method.equals("PATCH"));
    } else {
      send(call, 405, error("method not allowed"));
    }
  }

  /**
   * Patroni's body conditions: {@code {"restart_pending": true}} restarts only if PostgreSQL has settings
   * waiting for a restart, {@code {"role": "primary"|"replica"}} only in that role; otherwise 503, as Patroni
   * answers. Scheduled restarts ({@code schedule}) and the other fields Patroni takes are refused with 400,
   * not ignored.
   */
  private void restart(Call call, String body) {
    AgentStatus s = status.get();
    if (!body.isBlank()) {
      JsonNode req = jsonObject(call, body);
      if (req == null) {
        return;
      }
      for (java.util.Iterator<String> names = req.fieldNames(); names.hasNext(); ) {
        String name = names.next();
        if (!name.equals("restart_pending") && !name.equals("role")) {
          send(call, 400, error("pgwarden restarts take restart_pending and role, not " + name));
          return;
        }
      }
      String role = req.path("role").asText("");
      if (req.has("role") && !List.of("primary", "master", "replica").contains(role)) {
        send(call, 400, error("role must be primary or replica, got " + req.get("role")));
        return;
      }
      if (s == null) {
        send(call, 503, error("this agent has not observed its node yet"));
        return;
      }
      MemberStatus me = s.member();
      boolean primary = me.role() == io.pgwarden.common.model.Role.PRIMARY;
      if (req.path("restart_pending").asBoolean(false) && !me.restartPending()) {
        send(call, 503, error("restart conditions are not satisfied: no settings wait for a restart"));
        return;
      }
      if (req.has("role") && primary != !role.equals("replica")) {
        send(call, 503, error("restart conditions are not satisfied: this member is a " + me.role().json()));
        return;
      }
    }
    request(call, OperatorRequest.RESTART);
  }

  /** The body as a JSON object; null when it is not one, after answering 400 saying so. */
  private static JsonNode jsonObject(Call call, String body) {
    JsonNode node;
    try {
      node = Json.STRICT.readTree(body);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      send(call, 400, error("the body is not JSON: " + e.getOriginalMessage()));
      return null;
    }
    if (node == null || !node.isObject()) {
      send(call, 400, error("the body must be a JSON object"));
      return null;
    }
    return node;
  }

  /** A refusal belongs in the answer (503, as Patroni's), not only in the agent's log. */
  private void request(Call call, OperatorRequest r) {
    AgentStatus s = status.get();
    String refusal = s == null ? null : io.pgwarden.common.decide.RequestRefusal.of(r, s.observation());
    if (refusal != null) {
      send(call, 503, error(refusal));
      return;
    }
    if (!ops.requests().submit(r)) {
      send(call, 409, error(ops.requests().peek().name().toLowerCase(Locale.ROOT) + " is still pending on this member"));
      return;
    }
    log.info("accepted {} request from {}", r.name().toLowerCase(Locale.ROOT), call.remote());
    send(call, 202, "{\"accepted\":\"" + r.name().toLowerCase(Locale.ROOT) + "\"}");
  }

  /**
   * Patroni's {@code PATCH /config} (a JSON merge patch: null resets a field) and {@code PUT /config} (the whole
   * config): checked by the agents' own parser and written by compare-and-swap, so that a concurrent edit of
   * another field is kept. Answers the config now in etcd.
   */
  private void editConfig(Call call, String body, boolean patch) {
    JsonNode change = jsonObject(call, body);
    if (change == null) {
      return;
    }
    io.pgwarden.common.model.DynamicConfig[] before = new io.pgwarden.common.model.DynamicConfig[1];
    io.pgwarden.common.model.DynamicConfig after;
    try {
      if (patch) {
        after = ConfigEdits.update(ops.store(), ops.keys(), cur -> {
          before[0] = cur;
          return ConfigEdits.patched(cur, change);
        }, ETCD_TIMEOUT);
      } else {
        // Whatever is stored, valid or not: PUT is also how a config broken by hand is mended.
        after = ConfigEdits.replaced(change);
        before[0] = ConfigEdits.replace(ops.store(), ops.keys(), after, ETCD_TIMEOUT);
      }
    } catch (IllegalArgumentException e) {
      send(call, 400, error(e.getMessage()));
      return;
    }
    String what = before[0] == null ? "the whole config (none valid before)"
        : String.join(", ", ConfigEdits.changed(before[0], after));
    log.info("dynamic config {} through the REST API by {}: {}", patch ? "patched" : "replaced", call.remote(),
        what.isEmpty() ? "nothing changed" : "changed " + what);
    send(call, 200, Json.write(after));
  }

  /** Patroni's body: {"leader": ..., "candidate": ..., "scheduled_at": ...}. */
  private void switchover(Call call, String body, boolean failover) {
    AgentStatus s = status.get();
    if (s == null || !s.observation().cluster().reachable()) {
      send(call, 503, error("no current view of the cluster"));
      return;
    }
    Switchover plan;
    try {
      JsonNode req = body.isBlank() ? Json.LENIENT.createObjectNode() : Json.LENIENT.readTree(body);
      plan = Switchovers.plan(s.observation().cluster(), text(req, "leader"), text(req, "candidate"),
          text(req, "scheduled_at"), failover, req.path("allow_data_loss").asBoolean(false));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      send(call, 400, error("the body is not JSON: " + e.getOriginalMessage()));
      return;
    } catch (IllegalArgumentException e) {
      send(call, 412, error(e.getMessage()));
      return;
    }
    if (!Switchovers.submit(ops.store(), ops.keys(), plan, ETCD_TIMEOUT)) {
      send(call, 409, error("a switchover is already pending; cancel it with DELETE /switchover"));
      return;
    }
    log.info("{} requested through the REST API: {}", failover ? "failover" : "switchover", Json.write(plan));
    send(call, 202, Json.write(plan));
  }

  private void cancelSwitchover(Call call) {
    String pending = Switchovers.pending(ops.store(), ops.keys(), ETCD_TIMEOUT);
    if (pending == null || !ops.store().deleteIfValue(ops.keys().switchover(), pending, ETCD_TIMEOUT)) {
      send(call, 404, error("no switchover is pending"));
      return;
    }
    log.info("pending switchover cancelled through the REST API: {}", pending);
    send(call, 200, pending);
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() || v.asText().isEmpty() ? null : v.asText();
  }

  private static String error(String message) {
    return Json.write(Map.of("error", message));
  }

  /** Running as primary and holding a valid lease: the only node HAProxy may send writes to. */
  static boolean isPrimary(AgentStatus s) {
    LocalPgState l = s.observation().local();
    ClusterView c = s.observation().cluster();
    return l.runningAsPrimary() && s.observation().lease().valid()
        && (!c.reachable() || c.isLeader(s.member().name()));
  }

  static boolean isReplica(AgentStatus s, Map<String, String> query) {
    MemberStatus m = s.member();
    LocalPgState l = s.observation().local();
    if (!l.runningAsReplica() || m.tags().noloadbalance()) {
      return false;
    }
    String wantState = query.get("replication_state");
    if (wantState != null && !(wantState.equals("streaming") && l.streaming())) {
      return false;
    }
    return withinLag(s, query);
  }

  /**
   * {@code ?tag_NAME=VALUE}, any number of them, as in Patroni: this node must have each tag with that value
   * (compared as text: {@code ?tag_rack=3}, {@code ?tag_nofailover=true}). The health checks of a role —
   * every path but the primary's and the leader's — take them, so that a load balancer can keep reads in
   * one data centre, say.
   */
  static boolean hasTags(AgentStatus s, Map<String, String> query) {
    if (query.isEmpty()) {
      return true;
    }
    for (Map.Entry<String, String> q : query.entrySet()) {
      if (q.getKey().startsWith("tag_")
          && !q.getValue().equals(s.member().tags().value(q.getKey().substring("tag_".length())))) {
        return false;
      }
    }
    return true;
  }

  /**
   * {@code ?lag=} bounds how far behind the primary's published position this replica may be. What
   * counts is the WAL it replayed, as in Patroni: a read sees only that, however much more arrived.
   */
  private static boolean withinLag(AgentStatus s, Map<String, String> query) {
    String lag = query.get("lag");
    if (lag == null) {
      return true;
    }
    long maxLag = parseBytes(lag);
    WalPosition primary = primaryPosition(s.observation());
    if (primary == null) {
      // Nothing to lag behind, as in Patroni. Failing instead would drop every replica from the read
      // pool exactly when the primary is gone (a failover, or etcd out of reach).
      return true;
    }
    LocalPgState l = s.observation().local();
    Lsn replayed = l.replayedLsn() != null ? l.replayedLsn() : l.lsn();
    if (replayed == null || l.timeline() == null || l.timeline().longValue() != primary.timeline()) {
      // Bytes between LSNs of different timelines say nothing (DESIGN invariant 7): either side may
      // hold WAL the other never will.
      return false;
    }
    return primary.lsn().minus(replayed) <= maxLag;
  }

  /**
   * Where the primary last said it was: the leader's published position, else the last one this
   * agent saw a primary publish (no leader key during a failover, or etcd out of reach); null when
   * neither is known.
   */
  private static WalPosition primaryPosition(Observation o) {
    ClusterView c = o.cluster();
    MemberStatus leader = c.hasLeader() ? c.member(c.leader().holder()) : null;
    WalPosition published = leader == null ? null : leader.position();
    return published != null ? published : o.lastPrimaryPosition();
  }

  /**
   * {@code /sync}: a running, streaming replica the topology records as a synchronous standby (the
   * primary may wait for it); {@code /async}: a running, streaming replica it does not record.
   * {@code ?lag=} applies. Tags are not checked here, although Patroni answers 503 on these paths
   * for a replica tagged noloadbalance, as on {@code /replica}.
   */
  static boolean isStandby(AgentStatus s, Map<String, String> query, boolean synchronous) {
    LocalPgState l = s.observation().local();
    if (!l.runningAsReplica() || !l.streaming() || !s.observation().cluster().reachable()) {
      return false;
    }
    var t = s.observation().cluster().topology();
    boolean recorded = t != null && t.syncStandbys().contains(s.member().name());
    return recorded == synchronous && withinLag(s, query);
  }

  /**
   * Whether the node serves its role: the primary with a valid lease, or a streaming replica. Tags
   * say where load balancers send reads, not whether the node is ready; as in Patroni they are
   * ignored, else a Kubernetes pod of a noloadbalance replica would never become Ready.
   */
  static boolean isReady(AgentStatus s) {
    LocalPgState l = s.observation().local();
    return isPrimary(s) || l.runningAsReplica() && l.streaming();
  }

  private boolean alive(AgentStatus s) {
    Duration since = Duration.ofNanos(clock.nanoTime() - s.atNanos());
    return since.compareTo(livenessBound.get()) <= 0;
  }

  private static Map<String, Object> cluster(AgentStatus s) {
    ClusterView c = s.observation().cluster();
    List<MemberStatus> members = new ArrayList<>();
    for (Member m : c.members().values()) {
      members.add(m.status());
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("leader", c.hasLeader() ? c.leader().holder() : null);
    out.put("topology", c.topology());
    out.put("members", members);
    out.put("paused", c.config().paused());
    out.put("switchover", c.switchover());
    return out;
  }

  static long parseBytes(String text) {
    return Sizes.parseBytes(text);
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> m = new LinkedHashMap<>();
    if (raw == null) {
      return m;
    }
    for (String part : raw.split("&")) {
      int eq = part.indexOf('=');
      String k = eq < 0 ? part : part.substring(0, eq);
      String v = eq < 0 ? "" : part.substring(eq + 1);
      m.put(java.net.URLDecoder.decode(k, StandardCharsets.UTF_8), java.net.URLDecoder.decode(v, StandardCharsets.UTF_8));
    }
    return m;
  }

  private static void send(Call call, int code, String json) {
    call.answer(code, "application/json", json);
  }

  private static void sendText(Call call, int code, String text) {
    call.answer(code, "text/plain; version=0.0.4", text);
  }
}
