package io.pgwarden.agent.api;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.agent.loop.AgentStatus;
import io.pgwarden.agent.loop.OperatorRequests;
import io.pgwarden.agent.ops.Sizes;
import io.pgwarden.agent.ops.Switchovers;
import io.pgwarden.agent.port.ClusterStore;
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
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
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
  private static final int MAX_BODY = 64 * 1024;
  private static final int DRAIN_LIMIT = 1024 * 1024;
  // The server's threads read every request and answer health checks from memory. A client that
  // stops halfway through its request holds one until maxReqTime cuts it off, so there must be more
  // than a few stalled clients can take.
  private static final int REQUEST_THREADS = 16;
  // Changing calls wait on etcd for seconds: on threads of their own, a burst of them cannot hold
  // the ones health checks need. Beyond the queue they are refused rather than piled up.
  private static final int CHANGE_THREADS = 2;
  private static final int CHANGE_QUEUE = 8;
  // The server cuts off a response not written within maxRspTime (30 s) of the request's arrival, and
  // a full queue can hold the last call for four turns of calls that each wait on etcd up to twice
  // ETCD_TIMEOUT: one that waited longer than this is refused, while it still has time for its own.
  private static final Duration QUEUE_PATIENCE = Duration.ofSeconds(15);

  static {
    defaultServerLimits(System.getProperties());
  }

  private final HttpServer server;
  private final ExecutorService requestThreads;
  private final ExecutorService changeThreads;
  private final AtomicReference<AgentStatus> status;
  private final MonotonicClock clock;
  private final Supplier<Duration> livenessBound;
  private final Operations ops;
  private final BasicAuth auth;
  private final boolean clientCertificates;

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
    if (clientCertificates && tls == null) {
      throw new IllegalArgumentException("client certificates need TLS");
    }
    this.clientCertificates = clientCertificates;
    this.status = status;
    this.clock = clock;
    this.livenessBound = livenessBound;
    this.ops = ops;
    this.auth = new BasicAuth(ops.auth());
    InetSocketAddress addr = new InetSocketAddress(listen.host(), listen.port());
    try {
      if (tls == null) {
        this.server = HttpServer.create(addr, 64);
      } else {
        HttpsServer https = HttpsServer.create(addr, 64);
        https.setHttpsConfigurator(new HttpsConfigurator(tls) {
          @Override
          public void configure(HttpsParameters params) {
            SSLParameters p = tls.getDefaultSSLParameters();
            // Want, not need: a load balancer's health check carries no certificate. A certificate
            // that is presented but not verified still fails the handshake.
            p.setWantClientAuth(clientCertificates);
            params.setSSLParameters(p);
          }
        });
        this.server = https;
      }
    } catch (java.net.BindException e) {
      // The JDK says only "Address already in use": name what could not be bound, and the setting it comes from.
      java.net.BindException named =
          new java.net.BindException("REST API cannot listen on " + listen + " (api.listen): " + e.getMessage());
      named.initCause(e);
      throw named;
    }
    this.requestThreads = Executors.newFixedThreadPool(REQUEST_THREADS, daemons("pgwarden-rest"));
    this.changeThreads = new ThreadPoolExecutor(CHANGE_THREADS, CHANGE_THREADS, 0, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(CHANGE_QUEUE), daemons("pgwarden-rest-change"));
    server.setExecutor(requestThreads);
    server.createContext("/", this::handle);
  }

  /**
   * By default the JDK server never times out a request or a response, so a half-open connection holds a
   * thread forever. It reads these limits once per JVM, when its implementation class
   * initialises: no earlier than the first HttpServer.create below, as nothing else in pgwarden starts a
   * JDK HTTP server. A value the operator set with -D wins. Package-private so a test can check the values
   * on properties of its own: a test JVM sets shorter ones, or waiting for the server's cut-offs takes seconds.
   */
  static void defaultServerLimits(Properties props) {
    defaultProperty(props, "sun.net.httpserver.maxReqTime", "5");
    // Long enough for a changing call's etcd waits (a few ETCD_TIMEOUTs) after QUEUE_PATIENCE in the queue.
    defaultProperty(props, "sun.net.httpserver.maxRspTime", "30");
    // With those limits the server checks its connections on a timer thread, every second by default:
    // ~8 ms of CPU a minute, a tenth of an idle agent's (docs/benchmarks.md). Every 5 s cuts a stalled
    // client off up to 5 s later, still inside QUEUE_PATIENCE's and maxRspTime's reasoning.
    defaultProperty(props, "sun.net.httpserver.timerMillis", "5000");
  }

  private static void defaultProperty(Properties props, String key, String value) {
    if (props.getProperty(key) == null) {
      props.setProperty(key, value);
    }
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
    server.start();
    String who = auth.configured() && clientCertificates
        ? "need basic auth as " + ops.auth().username() + " or a client certificate from api.tls.client_ca"
        : auth.configured() ? "need basic auth as " + ops.auth().username()
        : clientCertificates ? "need a client certificate from api.tls.client_ca"
        : "are refused (no api.auth or api.tls.client_ca configured)";
    log.info("REST API listening on {} ({}); changing calls {}", server.getAddress(),
        server instanceof HttpsServer ? "https" : "http", who);
  }

  /** The bound address; the port is the real one when {@code listen} asked for port 0. */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    requestThreads.shutdownNow();
    changeThreads.shutdownNow();
  }

  private void handle(HttpExchange ex) throws IOException {
    String method = ex.getRequestMethod();
    if (method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS")) {
      read(ex);
      return;
    }
    // Authenticated here, before the body is read or the call queued: a caller without credentials must
    // not take a change thread's queue slot from one with them.
    try {
      if (!authenticated(ex, method)) {
        return;
      }
    } catch (IOException | RuntimeException e) {
      log.warn("REST request failed: {}", e.toString());
      ex.close();
      return;
    }
    // Read here, not on a change thread: the server counts a request whose body is unread as still
    // arriving and closes its connection after maxReqTime, so a call that waited that long in the queue
    // got no answer at all. Bounded like the headers: MAX_BODY bytes, within maxReqTime.
    String body;
    try {
      body = readBody(ex);
    } catch (IOException e) {
      log.warn("REST request failed while its body was read: {}", e.toString());
      ex.close();
      return;
    }
    if (body == null) {
      log.warn("refused {} {} from {}: body larger than {} bytes", method, ex.getRequestURI().getPath(),
          ex.getRemoteAddress(), MAX_BODY);
      try {
        tooLarge(ex);
      } catch (IOException e) {
        log.warn("REST request failed: {}", e.toString());
      }
      return;
    }
    long queuedAt = clock.nanoTime();
    try {
      // The exchange stays open past this return; the change thread answers and closes it.
      changeThreads.execute(() -> {
        try (ex) {
          if (clock.nanoTime() - queuedAt > QUEUE_PATIENCE.toNanos()) {
            send(ex, 503, error("waited too long behind other changing calls; try again"));
            return;
          }
          change(ex, method, body);
        } catch (IOException | RuntimeException e) {
          log.warn("REST request failed: {}", e.toString());
        }
      });
    } catch (RejectedExecutionException busy) {
      try (ex) {
        send(ex, 503, error("too many changing calls at once; try again"));
      }
    }
  }

  private void read(HttpExchange ex) throws IOException {
    try (ex) {
      URI uri = ex.getRequestURI();
      String path = uri.getPath();
      Map<String, String> query = query(uri.getRawQuery());
      AgentStatus s = status.get();
      if (s == null) {
        send(ex, 503, "{\"state\":\"starting\"}");
        return;
      }
      String body = Json.write(s.member());
      switch (path) {
        case "/", "/primary", "/leader", "/master", "/read-write" -> send(ex, isPrimary(s) ? 200 : 503, body);
        case "/replica" -> {
          boolean replica;
          try {
            replica = isReplica(s, query);
          } catch (IllegalArgumentException e) {
            send(ex, 400, error(e.getMessage()));
            return;
          }
          send(ex, replica ? 200 : 503, body);
        }
        case "/sync", "/synchronous", "/async", "/asynchronous" -> {
          boolean ok;
          try {
            ok = isStandby(s, query, path.startsWith("/sync"));
          } catch (IllegalArgumentException e) {
            send(ex, 400, error(e.getMessage()));
            return;
          }
          send(ex, ok ? 200 : 503, body);
        }
        case "/read-only-sync", "/read-only-synchronous" -> {
          boolean ok;
          try {
            ok = isPrimary(s) || isStandby(s, query, true);
          } catch (IllegalArgumentException e) {
            send(ex, 400, error(e.getMessage()));
            return;
          }
          send(ex, ok ? 200 : 503, body);
        }
        case "/read-only" -> send(ex, isPrimary(s) || isReplica(s, Map.of()) ? 200 : 503, body);
        // pgwarden runs no standby clusters, so no member ever leads one; Patroni accepts both spellings.
        case "/standby-leader", "/standby_leader" -> send(ex, 503, body);
        case "/patroni" -> send(ex, 200, body);
        case "/health" -> send(ex, s.observation().local().running() ? 200 : 503, body);
        case "/liveness" -> send(ex, alive(s) ? 200 : 503, body);
        case "/readiness" -> send(ex, isReady(s) ? 200 : 503, body);
        case "/cluster" -> send(ex, 200, Json.write(cluster(s)));
        case "/history" -> send(ex, 200, Json.write(s.observation().cluster().history()));
        case "/config" -> send(ex, 200, Json.write(s.observation().config()));
        case "/metrics" -> sendText(ex, 200, Metrics.render(s, ops.keys().scope()));
        default -> send(ex, 404, "{\"error\":\"no such path\"}");
      }
    } catch (RuntimeException e) {
      log.warn("REST request failed: {}", e.toString());
    }
  }

  /**
   * POST/PUT/PATCH/DELETE: authenticated first, whatever the path, so nothing leaks or changes without it.
   * Answers 401 or 403 itself, closing the exchange, and returns false when the caller may not change anything.
   */
  private boolean authenticated(HttpExchange ex, String method) throws IOException {
    String path = ex.getRequestURI().getPath();
    String certificate = verifiedClient(ex);
    BasicAuth.Verdict basic = auth.check(ex.getRequestHeaders().getFirst("Authorization"));
    if (certificate == null && basic != BasicAuth.Verdict.OK) {
      if (basic == BasicAuth.Verdict.NOT_CONFIGURED && !clientCertificates) {
        log.warn("refused {} {} from {}: no api.auth or api.tls.client_ca configured", method, path,
            ex.getRemoteAddress());
        refuse(ex, 403, error("changing calls are disabled: this agent has no api.auth or api.tls.client_ca configured"));
        return false;
      }
      log.warn("refused {} {} from {}: {}", method, path, ex.getRemoteAddress(),
          basic == BasicAuth.Verdict.WRONG ? "wrong credentials" : "no credentials and no client certificate");
      if (auth.configured()) {
        ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"pgwarden\"");
      }
      refuse(ex, 401, error(clientCertificates && !auth.configured()
          ? "authentication required: a client certificate from api.tls.client_ca"
          : "authentication required"));
      return false;
    }
    if (certificate != null && basic != BasicAuth.Verdict.OK) {
      log.info("{} {} from {} authenticated by client certificate {}", method, path, ex.getRemoteAddress(), certificate);
    }
    return true;
  }

  /** POST/PUT/PATCH/DELETE of an authenticated caller, on a change thread. */
  private void change(HttpExchange ex, String method, String body) throws IOException {
    String path = ex.getRequestURI().getPath();
    if (method.equals("POST")) {
      switch (path) {
        case "/restart" -> request(ex, OperatorRequest.RESTART);
        case "/reload" -> request(ex, OperatorRequest.RELOAD);
        case "/reinit" -> request(ex, OperatorRequest.REINIT);
        case "/switchover" -> switchover(ex, body, false);
        case "/failover" -> switchover(ex, body, true);
        default -> send(ex, 404, error("no such path"));
      }
    } else if (method.equals("DELETE") && path.equals("/switchover")) {
      cancelSwitchover(ex);
    } else {
      send(ex, 405, error("method not allowed"));
    }
  }

  /**
   * The subject of the client certificate the TLS handshake verified against {@code api.tls.client_ca},
   * or null when there is none (or client certificates are not configured).
   */
  private String verifiedClient(HttpExchange ex) {
    if (!clientCertificates || !(ex instanceof HttpsExchange https) || https.getSSLSession() == null) {
      return null;
    }
    try {
      Certificate[] chain = https.getSSLSession().getPeerCertificates();
      if (chain.length == 0) {
        return null;
      }
      return chain[0] instanceof X509Certificate x ? x.getSubjectX500Principal().getName() : "(not X.509)";
    } catch (SSLPeerUnverifiedException none) {
      return null;
    }
  }

  private void request(HttpExchange ex, OperatorRequest r) throws IOException {
    if (!ops.requests().submit(r)) {
      send(ex, 409, error(ops.requests().peek().name().toLowerCase(Locale.ROOT) + " is still pending on this member"));
      return;
    }
    log.info("accepted {} request from {}", r.name().toLowerCase(Locale.ROOT), ex.getRemoteAddress());
    send(ex, 202, "{\"accepted\":\"" + r.name().toLowerCase(Locale.ROOT) + "\"}");
  }

  /** Patroni's body: {"leader": ..., "candidate": ..., "scheduled_at": ...}. */
  private void switchover(HttpExchange ex, String body, boolean failover) throws IOException {
    AgentStatus s = status.get();
    if (s == null || !s.observation().cluster().reachable()) {
      send(ex, 503, error("no current view of the cluster"));
      return;
    }
    Switchover plan;
    try {
      JsonNode req = body.isBlank() ? Json.LENIENT.createObjectNode() : Json.LENIENT.readTree(body);
      plan = Switchovers.plan(s.observation().cluster(), text(req, "leader"), text(req, "candidate"),
          text(req, "scheduled_at"), failover, req.path("allow_data_loss").asBoolean(false));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      send(ex, 400, error("the body is not JSON: " + e.getOriginalMessage()));
      return;
    } catch (IllegalArgumentException e) {
      send(ex, 412, error(e.getMessage()));
      return;
    }
    if (!Switchovers.submit(ops.store(), ops.keys(), plan, ETCD_TIMEOUT)) {
      send(ex, 409, error("a switchover is already pending; cancel it with DELETE /switchover"));
      return;
    }
    log.info("{} requested through the REST API: {}", failover ? "failover" : "switchover", Json.write(plan));
    send(ex, 202, Json.write(plan));
  }

  private void cancelSwitchover(HttpExchange ex) throws IOException {
    String pending = Switchovers.pending(ops.store(), ops.keys(), ETCD_TIMEOUT);
    if (pending == null || !ops.store().deleteIfValue(ops.keys().switchover(), pending, ETCD_TIMEOUT)) {
      send(ex, 404, error("no switchover is pending"));
      return;
    }
    log.info("pending switchover cancelled through the REST API: {}", pending);
    send(ex, 200, pending);
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() || v.asText().isEmpty() ? null : v.asText();
  }

  private static String error(String message) {
    return Json.write(Map.of("error", message));
  }

  /** The body, or null when it is longer than MAX_BODY (by its Content-Length, or as read). */
  private static String readBody(HttpExchange ex) throws IOException {
    String length = ex.getRequestHeaders().getFirst("Content-Length");
    if (length != null) {
      try {
        if (Long.parseLong(length.strip()) > MAX_BODY) {
          return null;
        }
      } catch (NumberFormatException e) {
        // The server refuses a malformed length before a handler sees it; read as for a chunked body.
      }
    }
    byte[] b = ex.getRequestBody().readNBytes(MAX_BODY + 1);
    return b.length > MAX_BODY ? null : new String(b, StandardCharsets.UTF_8);
  }

  /** 413 for a body over MAX_BODY, answered before any more of it is read: see {@link #refuse}. */
  private static void tooLarge(HttpExchange ex) throws IOException {
    refuse(ex, 413, error("request body larger than " + MAX_BODY + " bytes"));
  }

  /**
   * Answers a changing call refused before its body was read (401, 403, 413), then closes the exchange. The
   * answer goes out before any more of the body is read: a client that reads while it sends (curl,
   * java.net.http) stops at the answer, and one on a slow link gets it before maxReqTime cuts the
   * connection. The server then closes the connection with the body unread (it drains only 64 KiB itself),
   * which resets it, and a reset can destroy an answer the client has not read yet: so after the answer up
   * to DRAIN_LIMIT of the body is read and dropped, for a client that sends its whole body before it reads
   * (HttpURLConnection). Callers without credentials get this too: what they send is dropped, never parsed
   * or kept, and the server's request timer (maxReqTime, checked every timerMillis) ends a drain that takes
   * too long, as it ends any slow client's request, so a request thread is held for seconds at most.
   */
  private static void refuse(HttpExchange ex, int code, String json) throws IOException {
    try (ex) {
      byte[] answer = json.getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.getResponseHeaders().set("Connection", "close");
      ex.sendResponseHeaders(code, answer.length);
      OutputStream out = ex.getResponseBody();
      out.write(answer);
      out.flush();
      try {
        long dropped = 0;
        byte[] sink = new byte[8192];
        int n;
        while (dropped < DRAIN_LIMIT && (n = ex.getRequestBody().read(sink)) > 0) {
          dropped += n;
        }
      } catch (IOException e) {
        // The answer is out; a client that gave up on the rest of its body, or maxReqTime, ended the read.
      }
      out.close();
    }
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

  private static void send(HttpExchange ex, int code, String json) throws IOException {
    sendWithType(ex, code, json, "application/json");
  }

  private static void sendText(HttpExchange ex, int code, String text) throws IOException {
    sendWithType(ex, code, text, "text/plain; version=0.0.4");
  }

  private static void sendWithType(HttpExchange ex, int code, String body, String type) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    if (ex.getRequestMethod().equals("HEAD")) {
      ex.sendResponseHeaders(code, -1);
      return;
    }
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }
}
