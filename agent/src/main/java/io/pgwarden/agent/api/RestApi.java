package io.pgwarden.agent.api;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.pgwarden.agent.loop.AgentStatus;
import io.pgwarden.common.config.HostPort;
import io.pgwarden.common.json.Json;
import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.LocalPgState;
import io.pgwarden.common.model.Member;
import io.pgwarden.common.model.MemberStatus;
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
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Patroni-compatible health endpoints, so HAProxy checks written for Patroni work unchanged. Answers
 * only from the loop's last snapshot: it never blocks on etcd or PostgreSQL.
 */
public final class RestApi implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RestApi.class);

  private final HttpServer server;
  private final AtomicReference<AgentStatus> status;
  private final MonotonicClock clock;
  private final Supplier<Duration> livenessBound;

  public RestApi(HostPort listen, AtomicReference<AgentStatus> status, MonotonicClock clock,
      Supplier<Duration> livenessBound) throws IOException {
    this.status = status;
    this.clock = clock;
    this.livenessBound = livenessBound;
    this.server = HttpServer.create(new InetSocketAddress(listen.host(), listen.port()), 64);
    server.setExecutor(Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "pgwarden-rest");
      t.setDaemon(true);
      return t;
    }));
    server.createContext("/", this::handle);
  }

  public void start() {
    server.start();
    log.info("REST API listening on {}", server.getAddress());
  }

  @Override
  public void close() {
    server.stop(0);
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String method = ex.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD") && !method.equals("OPTIONS")) {
        send(ex, 405, "{\"error\":\"method not allowed\"}");
        return;
      }
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
        case "/replica" -> send(ex, isReplica(s, query) ? 200 : 503, body);
        case "/read-only" -> send(ex, isPrimary(s) || isReplica(s, Map.of()) ? 200 : 503, body);
        case "/health" -> send(ex, s.observation().local().running() ? 200 : 503, body);
        case "/liveness" -> send(ex, alive(s) ? 200 : 503, body);
        case "/readiness" -> send(ex, isPrimary(s) || isReplica(s, Map.of()) ? 200 : 503, body);
        case "/cluster" -> send(ex, 200, Json.write(cluster(s)));
        case "/history" -> send(ex, 200, Json.write(s.observation().cluster().history()));
        case "/config" -> send(ex, 200, Json.write(s.observation().config()));
        case "/metrics" -> sendText(ex, 200, Metrics.render(s, clock));
        default -> send(ex, 404, "{\"error\":\"no such path\"}");
      }
    } catch (RuntimeException e) {
      log.warn("REST request failed: {}", e.toString());
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
    String lag = query.get("lag");
    if (lag != null) {
      long maxLag = parseBytes(lag);
      ClusterView c = s.observation().cluster();
      MemberStatus primary = c.hasLeader() ? c.member(c.leader().holder()) : null;
      if (primary == null || primary.lsn() == null || l.lsn() == null) {
        return false;
      }
      return primary.lsn().minus(l.lsn()) <= maxLag;
    }
    return true;
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
    return out;
  }

  /** Accepts plain bytes or units as Patroni does: 16MB, 1 GB, 512kB. */
  static long parseBytes(String text) {
    String t = text.trim().toUpperCase(Locale.ROOT).replace(" ", "");
    long mult = 1;
    String[][] units = {{"TB", "1099511627776"}, {"GB", "1073741824"}, {"MB", "1048576"}, {"KB", "1024"}, {"B", "1"}};
    for (String[] u : units) {
      if (t.endsWith(u[0])) {
        mult = Long.parseLong(u[1]);
        t = t.substring(0, t.length() - u[0].length());
        break;
      }
    }
    try {
      return Long.parseLong(t) * mult;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("lag must be bytes or a size like 16MB, got '" + text + "'", e);
    }
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
