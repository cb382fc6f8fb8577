package io.pgwarden.agent.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.agent.local.FreePorts;
import io.pgwarden.agent.loop.AgentStatus;
import io.pgwarden.agent.loop.OperatorRequests;
import io.pgwarden.agent.loop.WakeupSignal;
import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.agent.port.RawKv;
import io.pgwarden.common.config.Credentials;
import io.pgwarden.common.config.ConfigLoader;
import io.pgwarden.common.config.HostPort;
import io.pgwarden.common.config.Keys;
import io.pgwarden.common.decide.Decision;
import io.pgwarden.common.json.Json;
import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.ControlState;
import io.pgwarden.common.model.DataDirState;
import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.model.LeaderRecord;
import io.pgwarden.common.model.LeaseState;
import io.pgwarden.common.model.LocalPgState;
import io.pgwarden.common.model.Lsn;
import io.pgwarden.common.model.Member;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Observation;
import io.pgwarden.common.model.OperatorRequest;
import io.pgwarden.common.model.Role;
import io.pgwarden.common.model.Switchover;
import io.pgwarden.common.model.Tags;
import io.pgwarden.common.model.WalPosition;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RestApiTest {
  private static final Keys KEYS = new Keys("/pgwarden", "t");
  private static final Lsn PRIMARY_LSN = new Lsn(100L * 1024 * 1024);
  private static final Credentials AUTH = new Credentials("admin", "s3cret", null, null);
  /**
   * Shorter than the agent's (5 s for a request to arrive, 30 s idle), or watching the server cut clients off
   * takes that long per case. 2 s, not 1: a request of the 64 KiB to 1 MB cases must still arrive whole on a
   * loaded CI machine.
   */
  private static final HttpTransport.Limits LIMITS =
      new HttpTransport.Limits(Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ofSeconds(4));

  private final AtomicReference<AgentStatus> status = new AtomicReference<>();
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final AtomicInteger clockReads = new AtomicInteger();
  private final OperatorRequests requests = new OperatorRequests(new WakeupSignal());
  private final Map<String, String> etcd = new ConcurrentHashMap<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private volatile CountDownLatch etcdHangs = new CountDownLatch(0);
  /** Thrown by the fake etcd's reads when set. */
  private volatile RuntimeException etcdFails;
  /** Calls held by {@link #etcdHangs} right now. */
  private final AtomicInteger etcdWaiting = new AtomicInteger();
  private RestApi api;

  @BeforeEach
  void start() throws Exception {
    startWith(AUTH);
  }

  private void startWith(Credentials auth) throws Exception {
    startWith(auth, LIMITS);
  }

  private void startWith(Credentials auth, HttpTransport.Limits limits) throws Exception {
    if (api != null) {
      api.close();
    }
    api = new RestApi(new HostPort("127.0.0.1", FreePorts.take(1).get(0)), status, this::nanoTime,
        () -> Duration.ofSeconds(20), new RestApi.Operations(auth, requests, fakeStore(), KEYS), null, false, limits);
    api.start();
  }

  /** The API's clock: {@link #now}, counting reads (a changing call notes when it was queued). */
  private long nanoTime() {
    clockReads.incrementAndGet();
    return now.get();
  }

  @AfterEach
  void stop() {
    if (api != null) {
      api.close();
    }
  }

  // ---- health endpoints ----

  @ParameterizedTest(name = "primary: {0} {1} -> {2}")
  @CsvSource({
      "GET, /primary, 200", "GET, /leader, 200", "GET, /master, 200", "GET, /replica, 503", "GET, /read-only, 200",
      "GET, /health, 200", "GET, /liveness, 200", "GET, /readiness, 200", "GET, /cluster, 200", "GET, /metrics, 200",
      "HEAD, /primary, 200", "HEAD, /replica, 503", "GET, /nope, 404", "GET, /read-only-sync, 200",
      "GET, /read-only-synchronous, 200", "GET, /standby-leader, 503", "GET, /standby_leader, 503",
      "GET, /patroni, 200", "HEAD, /patroni, 200"})
  void primaryAnswers(String method, String path, int code) throws Exception {
    status.set(primary());
    HttpResponse<String> r = call(method, path, null, null);
    assertThat(r.statusCode()).isEqualTo(code);
    if (method.equals("HEAD")) {
      assertThat(r.body()).isEmpty();
    } else if (code != 404 && !path.equals("/metrics") && !path.equals("/cluster")) {
      assertThat(Json.LENIENT.readTree(r.body()).get("name").asText()).isEqualTo("node1");
    }
  }

  @ParameterizedTest(name = "replica lagging {0} MB, streaming {1}: {2} -> {3}")
  @CsvSource({
      "1, true, /primary, 503", "1, true, /replica, 200", "1, true, /read-only, 200", "1, true, /readiness, 200",
      "1, true, /replica?lag=16MB, 200", "20, true, /replica?lag=16MB, 503", "20, true, /replica?lag=32MB, 200",
      "20, true, /replica?lag=16777216, 503", "1, true, /replica?replication_state=streaming, 200",
      "1, false, /replica?replication_state=streaming, 503", "1, false, /replica, 200", "1, false, /readiness, 503",
      "1, true, /replica?lag=lots, 400", "1, true, HEAD /replica?lag=16MB, 200", "20, true, HEAD /replica?lag=16MB, 503"})
  void replicaAnswers(long lagMb, boolean streaming, String request, int code) throws Exception {
    status.set(replica(lagMb, streaming, Tags.NONE));
    String method = request.startsWith("HEAD ") ? "HEAD" : "GET";
    String path = request.replace("HEAD ", "");
    assertThat(call(method, path, null, null).statusCode()).isEqualTo(code);
  }

  @ParameterizedTest(name = "received all, replayed {0} MB less: {1} -> {2}")
  @CsvSource({
      "20, /replica?lag=16MB, 503", "20, /replica?lag=32MB, 200", "1, /replica?lag=16MB, 200",
      "20, /sync?lag=16MB, 503", "1, /sync?lag=16MB, 200"})
  void lagCountsWhatTheReplicaReplayedNotWhatItReceived(long behindMb, String path, int code) throws Exception {
    AgentStatus r = replica(0, true, Tags.NONE);
    LocalPgState l = r.observation().local();
    Lsn replayed = new Lsn(PRIMARY_LSN.value() - behindMb * 1024 * 1024);
    LocalPgState trailing = new LocalPgState(l.dataDir(), true, true, l.controlState(), l.systemId(), l.timeline(),
        PRIMARY_LSN, replayed, true, l.upstream(), null, null, true, null);
    status.set(withTopology(status(r.member(), trailing, r.observation().cluster()), java.util.List.of("node2")));
    assertThat(call("GET", path, null, null).statusCode()).isEqualTo(code);
  }

  @ParameterizedTest(name = "etcd shows {0} (leader on TL{1}), last primary position TL{2}, {3} MB behind on TL1 -> {4}")
  @CsvSource({
      // Nothing known of the primary: nothing says the replica lags (Patroni does the same).
      "no leader, 0, 0, 20, 200", "unreachable, 0, 0, 20, 200",
      // Else the last position this agent saw the primary publish is the reference.
      "no leader, 0, 1, 20, 503", "no leader, 0, 1, 1, 200", "unreachable, 0, 1, 20, 503",
      "unreachable, 0, 1, 1, 200",
      // A leader that published no position is no reference either.
      "a leader without position, 0, 1, 20, 503", "a leader without position, 0, 0, 20, 200",
      // Never bytes across timelines: a replica not yet on the primary's timeline is lagging.
      "a leader, 2, 0, 0, 503", "a leader, 2, 1, 0, 503", "unreachable, 0, 2, 0, 503", "a leader, 1, 2, 1, 200"})
  void lagIsMeasuredAgainstTheLastKnownPrimaryPositionOnItsTimeline(String etcd, long leaderTimeline, long lastTimeline,
      long behindMb, int code) throws Exception {
    AgentStatus r = replica(behindMb, true, Tags.NONE);
    MemberStatus leader = new MemberStatus("node1", Role.PRIMARY, "running",
        etcd.equals("a leader") ? leaderTimeline : null, etcd.equals("a leader") ? PRIMARY_LSN : null, null, false,
        null, null, null, "1", null, "dev", 1L);
    ClusterView c = switch (etcd) {
      case "unreachable" -> ClusterView.unreachable("test", DynamicConfig.DEFAULTS);
      case "no leader" -> new ClusterView(true, null, 10, "1", null, Map.of("node2", new Member(r.member(), 1, 7)),
          null, null, DynamicConfig.DEFAULTS, null);
      default -> cluster(leader, r.member());
    };
    WalPosition last = lastTimeline == 0 ? null : new WalPosition(lastTimeline, PRIMARY_LSN);
    Observation o = new Observation("node2", Tags.NONE, c, r.observation().local(),
        new LeaseState(7, true, Duration.ofSeconds(10)), null, null, 0, last, false);
    status.set(new AgentStatus(r.member(), o, r.decision(), now.get(), 1, 1));
    assertThat(call("GET", "/replica?lag=16MB", null, null).statusCode()).isEqualTo(code);
  }

  @Test
  void aPortInUseIsNamedWithTheSettingItComesFrom() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(FreePorts.take(1).get(0), 1,
        java.net.InetAddress.getByName("127.0.0.1"))) {
      HostPort listen = new HostPort("127.0.0.1", taken.getLocalPort());
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> new RestApi(listen, status, this::nanoTime,
              () -> Duration.ofSeconds(20), new RestApi.Operations(AUTH, requests, fakeStore(), KEYS)))
          .isInstanceOf(java.net.BindException.class)
          .hasMessageStartingWith("REST API cannot listen on 127.0.0.1:" + taken.getLocalPort() + " (api.listen): ");
    }
  }

  @Test
  void aReplicaTaggedNoloadbalanceIsNoReplicaForLoadBalancers() throws Exception {
    status.set(replica(0, true, new Tags(false, true, 1, false)));
    assertThat(call("GET", "/replica", null, null).statusCode()).isEqualTo(503);
    assertThat(call("GET", "/read-only", null, null).statusCode()).isEqualTo(503);
    assertThat(call("GET", "/health", null, null).statusCode()).isEqualTo(200);
    // Readiness is about serving its role, not about load balancing (Patroni ignores tags there too).
    assertThat(call("GET", "/readiness", null, null).statusCode()).isEqualTo(200);
  }

  @ParameterizedTest(name = "replica tagged datacenter=dc1, rack=3: {0} -> {1}")
  @CsvSource({
      "/replica?tag_datacenter=dc1, 200", "/replica?tag_datacenter=dc2, 503", "/replica?tag_zone=a, 503",
      "/replica?tag_datacenter=dc1&tag_rack=3, 200", "/replica?tag_datacenter=dc1&tag_rack=4, 503",
      "/replica?tag_nofailover=false, 200", "/replica?tag_nofailover=true, 503",
      "/replica?tag_datacenter=dc1&lag=16MB, 200", "/read-only?tag_datacenter=dc1, 200",
      "/read-only?tag_datacenter=dc2, 503", "/health?tag_datacenter=dc2, 503", "/async?tag_datacenter=dc2, 503",
      "/async?tag_datacenter=dc1, 200", "/readiness?tag_datacenter=dc2, 200", "/replica?tag_datacenter=DC1, 503"})
  void aReplicasOwnTagsFilterItsHealthChecks(String path, int code) throws Exception {
    status.set(replica(1, true, new Tags(false, false, 1, false, Map.of("datacenter", "dc1", "rack", "3"))));
    assertThat(call("GET", path, null, null).statusCode()).isEqualTo(code);
  }

  /** As in Patroni: where writes go does not depend on tags, where reads go may. */
  @ParameterizedTest(name = "primary without tags: {0} -> {1}")
  @CsvSource({"/primary?tag_datacenter=dc1, 200", "/leader?tag_datacenter=dc1, 200",
      "/read-only?tag_datacenter=dc1, 503", "/read-only-sync?tag_datacenter=dc1, 503", "/read-only, 200"})
  void aPrimarysWriteChecksIgnoreTags(String path, int code) throws Exception {
    status.set(primary());
    assertThat(call("GET", path, null, null).statusCode()).isEqualTo(code);
  }

  @ParameterizedTest(name = "replica lagging {0} MB: /read-only{1} -> {2}")
  @CsvSource({"1, ?lag=16MB, 200", "20, ?lag=16MB, 503", "20, '', 200", "1, ?lag=lots, 400"})
  void readOnlyBoundsAReplicasLagAsReplicaDoes(long lagMb, String query, int code) throws Exception {
    status.set(replica(lagMb, true, Tags.NONE));
    assertThat(call("GET", "/read-only" + query, null, null).statusCode()).isEqualTo(code);
  }

  @Test
  void stoppedPostgresIsUnhealthyButTheAgentIsAlive() throws Exception {
    status.set(stopped());
    assertThat(call("GET", "/health", null, null).statusCode()).isEqualTo(503);
    assertThat(call("GET", "/read-only", null, null).statusCode()).isEqualTo(503);
    assertThat(call("GET", "/readiness", null, null).statusCode()).isEqualTo(503);
    assertThat(call("GET", "/liveness", null, null).statusCode()).isEqualTo(200);
    HttpResponse<String> patroni = call("GET", "/patroni", null, null);
    assertThat(patroni.statusCode()).isEqualTo(200);
    assertThat(Json.LENIENT.readTree(patroni.body()).get("state").asText()).isEqualTo("stopped");
  }

  @Test
  void livenessFailsWhenTheLoopHasNotRunForLongerThanTheBound() throws Exception {
    status.set(primary());
    assertThat(call("GET", "/liveness", null, null).statusCode()).isEqualTo(200);
    now.addAndGet(Duration.ofSeconds(21).toNanos());
    assertThat(call("GET", "/liveness", null, null).statusCode()).isEqualTo(503);
  }

  @Test
  void aPrimaryWhoseLeaseRanOutIsNotThePrimary() throws Exception {
    AgentStatus p = primary();
    status.set(new AgentStatus(p.member(), withLease(p.observation(), new LeaseState(7, false, Duration.ZERO)),
        p.decision(), p.atNanos(), 1, 1));
    assertThat(call("GET", "/primary", null, null).statusCode()).isEqualTo(503);
  }

  @Test
  void beforeTheFirstLoopEverythingIs503() throws Exception {
    assertThat(call("GET", "/health", null, null).statusCode()).isEqualTo(503);
    assertThat(call("GET", "/primary", null, null).statusCode()).isEqualTo(503);
  }

  // ---- clients that stall ----

  @Test
  void clientsThatStopHalfwayThroughARequestDoNotHoldUpHealthChecks() throws Exception {
    status.set(primary());
    List<Socket> stalled = List.of(halfARequest(), halfARequest());
    try {
      // More than once: whichever of them the server took up first, later requests need a free thread too.
      for (int i = 0; i < 3; i++) {
        await().atMost(Duration.ofSeconds(20))
            .until(() -> call("GET", "/health", null, null).statusCode() == 200);
      }
    } finally {
      for (Socket s : stalled) {
        s.close();
      }
    }
  }

  @Test
  void theServerCutsOffARequestThatNeverCompletes() throws Exception {
    status.set(primary());
    try (Socket s = halfARequest()) {
      await().atMost(requestCutoff().plusSeconds(10)).until(() -> closedByServer(s));
    }
  }

  /** A connection that never sends a request holds nothing for longer than the idle limit. */
  @Test
  void theServerClosesAConnectionThatSendsNothing() throws Exception {
    status.set(primary());
    try (Socket s = new Socket("127.0.0.1", api.address().getPort())) {
      s.setSoTimeout(30_000);
      await().atMost(LIMITS.idle().plusSeconds(10)).until(() -> closedByServer(s));
    }
  }

  /** Connections beyond the limit are closed at once; the API answers again as soon as some go. */
  @Test
  void connectionsBeyondTheLimitAreClosedAtOnce() throws Exception {
    // Idle connections held far longer than the test waits: only the limit can close the extra one in time.
    startWith(AUTH, new HttpTransport.Limits(LIMITS.request(), LIMITS.response(), Duration.ofMinutes(5)));
    status.set(primary());
    List<Socket> open = new ArrayList<>();
    try {
      for (int i = 0; i < HttpTransport.MAX_CONNECTIONS; i++) {
        open.add(new Socket("127.0.0.1", api.address().getPort()));
      }
      try (Socket extra = new Socket("127.0.0.1", api.address().getPort())) {
        extra.setSoTimeout(20_000);
        await().atMost(Duration.ofSeconds(20)).until(() -> closedByServer(extra));
      }
    } finally {
      for (Socket s : open) {
        s.close();
      }
    }
    await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
        .until(() -> call("GET", "/health", null, null).statusCode() == 200);
  }

  /** etcd out of reach is 503, to try again; anything unexpected 500, without the failure's own words. */
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({"etcd, 503, etcd is unavailable", "bug, 500, internal error"})
  void aChangingCallThatFailsIsAnsweredWithoutTheFailuresDetails(String failure, int code, String says)
      throws Exception {
    status.set(primary());
    etcdFails = failure.equals("etcd")
        ? new io.pgwarden.agent.port.EtcdUnavailableException("internal detail", new RuntimeException())
        : new IllegalStateException("internal detail");
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base() + "/switchover"))
        .header("Authorization", BasicAuth.header("admin", "s3cret")).DELETE().build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(code);
    assertThat(r.body()).contains(says).doesNotContain("internal detail");
  }

  /** Kept alive: the next request on the same connection is answered, as HTTP/1.1 clients expect. */
  @Test
  void aKeptAliveConnectionServesRequestAfterRequest() throws Exception {
    status.set(primary());
    try (Socket s = new Socket("127.0.0.1", api.address().getPort())) {
      s.setSoTimeout(20_000);
      for (String path : List.of("/health", "/replica", "/primary")) {
        s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        assertThat(answer(s)).startsWith(path.equals("/replica") ? "HTTP/1.1 503 " : "HTTP/1.1 200 ")
            .contains("\"name\":\"node1\"");
      }
    }
  }

  /** Pipelined reads are answered in order, each with its own answer. */
  @Test
  void pipelinedReadsAreAnsweredInOrder() throws Exception {
    status.set(primary());
    try (Socket s = new Socket("127.0.0.1", api.address().getPort())) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write(("GET /replica HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
          + "GET /primary HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      assertThat(answer(s)).startsWith("HTTP/1.1 503 ");
      assertThat(answer(s)).startsWith("HTTP/1.1 200 ");
    }
  }

  /**
   * A request sent while a changing call waits for its answer is not answered: the connection closes after
   * the changing call's answer, which says so.
   */
  @Test
  void aRequestPipelinedBehindAChangingCallClosesTheConnectionAfterItsAnswer() throws Exception {
    status.set(primary());
    etcdHangs = new CountDownLatch(1);
    try (Socket s = new Socket("127.0.0.1", api.address().getPort())) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write(("DELETE /switchover HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
          + BasicAuth.header("admin", "s3cret") + "\r\n\r\n"
          + "GET /primary HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      await("the DELETE waits on etcd").atMost(Duration.ofSeconds(20)).until(() -> etcdWaiting.get() == 1);
      etcdHangs.countDown();
      assertThat(answer(s)).startsWith("HTTP/1.1 404 ").containsIgnoringCase("connection: close");
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    } finally {
      etcdHangs.countDown();
    }
  }

  /** A request the server cannot parse is answered 400, and the connection closed. */
  @Test
  void aMalformedRequestGets400() throws Exception {
    status.set(primary());
    try (Socket s = new Socket("127.0.0.1", api.address().getPort())) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write(("GET /" + "x".repeat(10_000) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      assertThat(answer(s)).startsWith("HTTP/1.1 400 ");
    }
    assertThat(call("GET", "/health", null, null).statusCode()).isEqualTo(200);
  }

  /** HEAD answers like GET, with the length of the body it leaves out. */
  @Test
  void headGivesTheLengthOfTheBodyItLeavesOut() throws Exception {
    status.set(primary());
    int length = call("GET", "/patroni", null, null).body().getBytes(StandardCharsets.UTF_8).length;
    try (Socket s = new Socket("127.0.0.1", api.address().getPort())) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write("HEAD /patroni HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
      while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
        head.write(s.getInputStream().read());
      }
      assertThat(head.toString(StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 200 ")
          .containsIgnoringCase("content-length: " + length).containsIgnoringCase("\r\ndate: ");
      // Nothing follows the headers: the next bytes are the answer to the next request.
      s.getOutputStream().write("GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      assertThat(answer(s)).startsWith("HTTP/1.1 404 ");
    }
  }

  @Test
  void changingCallsWaitingOnEtcdDoNotHoldUpHealthChecks() throws Exception {
    status.set(primary());
    etcdHangs = new CountDownLatch(1);
    List<CompletableFuture<HttpResponse<String>>> cancels = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      cancels.add(http.sendAsync(HttpRequest.newBuilder(URI.create(base() + "/switchover"))
          .header("Authorization", BasicAuth.header("admin", "s3cret")).DELETE().build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    try {
      await().atMost(Duration.ofSeconds(20)).until(() -> call("GET", "/health", null, null).statusCode() == 200);
    } finally {
      etcdHangs.countDown();
    }
    for (CompletableFuture<HttpResponse<String>> c : cancels) {
      // 404: it got to etcd (nothing pending); 503: refused while the others waited.
      assertThat(c.get(20, TimeUnit.SECONDS).statusCode()).isIn(404, 503);
    }
  }

  /** What runs while both change threads are held. */
  private interface WhileHeld {
    void run() throws Exception;
  }

  /**
   * Runs {@code body} while both change threads hang on etcd, then lets them go: the status codes of the two
   * holding calls, for the caller to check.
   */
  private List<Integer> withBothChangeThreadsHeld(WhileHeld body) throws Exception {
    List<CompletableFuture<HttpResponse<String>>> holding = holdBothChangeThreads();
    try {
      body.run();
    } finally {
      etcdHangs.countDown();
    }
    List<Integer> codes = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> h : holding) {
      codes.add(h.get(20, TimeUnit.SECONDS).statusCode());
    }
    return codes;
  }

  /** Two DELETE /switchover calls that hang on etcd until etcdHangs is counted down: both change threads busy. */
  private List<CompletableFuture<HttpResponse<String>>> holdBothChangeThreads() {
    etcdHangs = new CountDownLatch(1);
    List<CompletableFuture<HttpResponse<String>>> holding = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      holding.add(deleteSwitchover(BasicAuth.header("admin", "s3cret")));
    }
    try {
      await("both change threads wait on etcd").atMost(Duration.ofSeconds(20)).until(() -> etcdWaiting.get() == 2);
    } catch (RuntimeException e) {
      etcdHangs.countDown();
      throw e;
    }
    return holding;
  }

  private CompletableFuture<HttpResponse<String>> deleteSwitchover(String authorization) {
    return http.sendAsync(HttpRequest.newBuilder(URI.create(base() + "/switchover"))
        .header("Authorization", authorization).DELETE().build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void patchAndPutConfigChangeTheDynamicConfigAsPatronisDo() throws Exception {
    status.set(primary());
    etcd.put(KEYS.config(), "{\"ttl\":12,\"parameters\":{\"work_mem\":\"4MB\",\"temp_buffers\":\"16MB\"}}");

    HttpResponse<String> r = sendConfig("PATCH",
        "{\"loop_wait\":3,\"postgresql\":{\"parameters\":{\"work_mem\":\"8MB\",\"temp_buffers\":null}}}", true);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    DynamicConfig stored = ConfigLoader.parseDynamic(etcd.get(KEYS.config()));
    assertThat(stored.ttl()).isEqualTo(12);
    assertThat(stored.loopWait()).isEqualTo(3);
    assertThat(stored.parameters()).containsExactly(Map.entry("work_mem", "8MB"));
    assertThat(ConfigLoader.parseDynamic(r.body())).isEqualTo(stored);

    // Back to the default ttl alone would break loop_wait + 2 * retry_timeout <= ttl; with loop_wait it does not.
    assertThat(sendConfig("PATCH", "{\"ttl\":null}", true).statusCode()).isEqualTo(400);
    r = sendConfig("PATCH", "{\"ttl\":null,\"loop_wait\":null}", true);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(ConfigLoader.parseDynamic(etcd.get(KEYS.config())).ttl()).isEqualTo(DynamicConfig.DEFAULTS.ttl());
    assertThat(ConfigLoader.parseDynamic(etcd.get(KEYS.config())).parameters()).containsKey("work_mem");

    r = sendConfig("PUT", "{\"ttl\":20,\"loop_wait\":5,\"retry_timeout\":5}", true);
    assertThat(r.statusCode()).isEqualTo(200);
    stored = ConfigLoader.parseDynamic(etcd.get(KEYS.config()));
    assertThat(stored.ttl()).isEqualTo(20);
    assertThat(stored.parameters()).as("PUT replaces the whole config").isEmpty();

    String before = etcd.get(KEYS.config());
    r = sendConfig("PATCH", "{\"loop_wait\":11}", true);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("loop_wait");
    r = sendConfig("PATCH", "{\"use_slots\":true}", true);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("use_slots");
    r = sendConfig("PATCH", "{\"postgresql\":{\"use_pg_rewind\":true}}", true);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("postgresql.use_pg_rewind is not a dynamic setting");
    assertThat(sendConfig("PATCH", "[1]", true).statusCode()).isEqualTo(400);
    assertThat(sendConfig("PATCH", "{\"ttl\":", true).statusCode()).isEqualTo(400);
    assertThat(sendConfig("PATCH", "{\"ttl\":30}", false).statusCode()).isEqualTo(401);
    assertThat(etcd.get(KEYS.config())).as("nothing refused was written").isEqualTo(before);

    // A config broken by hand: PATCH cannot build on it, PUT mends it.
    etcd.put(KEYS.config(), "{\"ttl\":\"soon\"}");
    r = sendConfig("PATCH", "{\"ttl\":30}", true);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("holds an invalid config");
    r = sendConfig("PUT", "{\"ttl\":30}", true);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(ConfigLoader.parseDynamic(etcd.get(KEYS.config())).ttl()).isEqualTo(30);
  }

  private HttpResponse<String> sendConfig(String method, String body, boolean authenticated) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + "/config"))
        .method(method, HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(20));
    if (authenticated) {
      b.header("Authorization", BasicAuth.header("admin", "s3cret"));
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private CompletableFuture<HttpResponse<String>> postSwitchover() {
    return http.sendAsync(HttpRequest.newBuilder(URI.create(base() + "/switchover"))
        .header("Authorization", BasicAuth.header("admin", "s3cret"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"leader\":\"node1\",\"candidate\":\"node2\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * The server gives each request a few seconds to arrive whole: a changing call that waits in the queue for
   * a change thread longer than that must still get its answer, not a connection closed under it.
   */
  @Test
  void aChangingCallQueuedLongerThanTheServerWaitsForARequestStillGetsItsAnswer() throws Exception {
    status.set(primary());
    List<Integer> holders = withBothChangeThreadsHeld(() -> {
      int before = clockReads.get();
      CompletableFuture<HttpResponse<String>> queued = postSwitchover();
      await("the call is queued").atMost(Duration.ofSeconds(20)).until(() -> clockReads.get() > before);
      // Past the server's cut-off, with a second's margin for its timer thread to run late.
      Duration wait = requestCutoff().plusSeconds(1);
      await().during(wait).atMost(wait.plusSeconds(2))
          .untilAsserted(() -> assertThat(queued).as("the queued call, still waiting for a change thread").isNotDone());
      etcdHangs.countDown();
      assertThat(queued.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(202);
    });
    // 404 as a rule; 200 if one read etcd only after the queued call had written its switchover.
    assertThat(holders).allMatch(code -> code == 200 || code == 404);
  }

  /** Callers without credentials are refused before their body is read: they take no change thread's queue slot. */
  @Test
  void unauthenticatedChangingCallsAreRefusedAtOnceAndTakeNoQueueSlot() throws Exception {
    status.set(primary());
    List<Integer> holders = withBothChangeThreadsHeld(() -> {
      List<CompletableFuture<HttpResponse<String>>> strangers = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        strangers.add(http.sendAsync(HttpRequest.newBuilder(URI.create(base() + "/switchover"))
            .POST(HttpRequest.BodyPublishers.ofString("{\"leader\":\"node1\"}")).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      for (CompletableFuture<HttpResponse<String>> c : strangers) {
        // Answered while both change threads are still held: never queued behind them.
        assertThat(c.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(401);
      }
      CompletableFuture<HttpResponse<String>> queued = postSwitchover();
      etcdHangs.countDown();
      assertThat(queued.get(20, TimeUnit.SECONDS).statusCode()).as("queued, not refused as too many").isEqualTo(202);
    });
    assertThat(holders).allMatch(code -> code == 200 || code == 404);
  }

  /**
   * With both change threads busy and all 8 queue slots taken, a caller without the right credentials still
   * gets its 401 at once, not "too many changing calls": it never competes for a slot.
   */
  @Test
  void withTheQueueFullCallersWithoutCredentialsAreStillRefusedWith401() throws Exception {
    status.set(primary());
    List<CompletableFuture<HttpResponse<String>>> queued = new ArrayList<>();
    List<Integer> holders = withBothChangeThreadsHeld(() -> {
      int before = clockReads.get();
      for (int i = 0; i < 8; i++) {
        queued.add(deleteSwitchover(BasicAuth.header("admin", "s3cret")));
      }
      // Each call reads the clock once as it enters the queue.
      await("the queue is full").atMost(Duration.ofSeconds(20)).until(() -> clockReads.get() - before >= 8);

      for (String authorization : new String[] {null, BasicAuth.header("admin", "wrong")}) {
        for (int i = 0; i < 4; i++) {
          HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + "/switchover"))
              .timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.ofString("{\"leader\":\"node1\"}"));
          if (authorization != null) {
            b.header("Authorization", authorization);
          }
          HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
          assertThat(r.statusCode()).as("caller with %s", authorization).isEqualTo(401);
          assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(h -> assertThat(h).startsWith("Basic"));
        }
      }
      // The queue really was full: the next authorised call is the one turned away.
      HttpResponse<String> overflow = post("/switchover", "{\"leader\":\"node1\",\"candidate\":\"node2\"}");
      assertThat(overflow.statusCode()).isEqualTo(503);
      assertThat(overflow.body()).contains("too many changing calls");
      assertThat(queued).as("all still queued behind the held change threads").noneMatch(CompletableFuture::isDone);
    });
    assertThat(holders).containsOnly(404);
    for (CompletableFuture<HttpResponse<String>> c : queued) {
      assertThat(c.get(20, TimeUnit.SECONDS).statusCode()).as("served once a change thread was free").isEqualTo(404);
    }
  }

  /**
   * The refusal does not wait for the body: a request that announces one and sends none is answered, so it
   * cannot have been read first, nor queued behind anything.
   */
  @ParameterizedTest(name = "api.auth configured {0} -> {1}")
  @CsvSource({"true, 401", "false, 403"})
  void aCallerWithoutCredentialsIsRefusedBeforeItsBodyArrives(boolean configured, int code) throws Exception {
    if (!configured) {
      startWith(null);
    }
    status.set(primary());
    try (Socket s = headersOnly("POST /switchover", 100, null)) {
      String answer = answer(s);
      assertThat(answer).startsWith("HTTP/1.1 " + code + " ");
      if (configured) {
        assertThat(answer).containsIgnoringCase("WWW-Authenticate: Basic");
      }
    }
    assertThat(etcd).isEmpty();
  }

  /**
   * Both JDK clients, one that reads while it sends and one that sends the whole body first: each must see
   * the 413 itself, not a connection reset. A megabyte stays within what the API reads and drops after its
   * answer, so the connection closes cleanly.
   */
  @ParameterizedTest(name = "{0}, chunked {1}, {2} bytes -> {3}")
  @CsvSource({
      "java.net.http, false, 65536, 202", "java.net.http, true, 65536, 202",
      "java.net.http, false, 65537, 413", "java.net.http, true, 65537, 413",
      "java.net.http, false, 1000000, 413", "java.net.http, true, 1000000, 413",
      "HttpURLConnection, false, 65536, 202", "HttpURLConnection, true, 65536, 202",
      "HttpURLConnection, false, 1000000, 413", "HttpURLConnection, true, 1000000, 413"})
  void aBodyOverTheLimitGets413(String client, boolean chunked, int size, int code) throws Exception {
    status.set(primary());
    byte[] body = new byte[size];
    java.util.Arrays.fill(body, (byte) ' ');
    byte[] plan = "{\"leader\":\"node1\",\"candidate\":\"node2\"}".getBytes(StandardCharsets.UTF_8);
    System.arraycopy(plan, 0, body, 0, plan.length);

    Answer answer = sendSwitchover(client, chunked, BasicAuth.header("admin", "s3cret"), body);

    assertThat(answer.code()).isEqualTo(code);
    if (code == 413) {
      assertThat(answer.body()).contains("larger than 65536 bytes");
      assertThat(etcd).doesNotContainKey(KEYS.switchover());
    } else {
      assertThat(etcd).containsKey(KEYS.switchover());
    }
  }

  /**
   * A caller without credentials is refused before its body is read, and a close with part of the body
   * unread resets the connection, which can destroy the 401 or 403 before the client reads it. Half a
   * megabyte stays within what the API reads and drops after its answer, so each client sees the refusal
   * itself.
   */
  @ParameterizedTest(name = "{0}, chunked {1}, api.auth configured {2} -> {3}")
  @CsvSource({
      "java.net.http, false, true, 401", "java.net.http, true, true, 401",
      "HttpURLConnection, false, true, 401", "HttpURLConnection, true, true, 401",
      "java.net.http, false, false, 403", "HttpURLConnection, false, false, 403"})
  void aCallerWithoutCredentialsAndALargeBodySeesItsRefusal(String client, boolean chunked, boolean configured,
      int code) throws Exception {
    if (!configured) {
      startWith(null);
    }
    status.set(primary());
    byte[] body = new byte[512 * 1024];
    java.util.Arrays.fill(body, (byte) ' ');

    // Whether the reset comes before the client has read the answer is a race: run it often enough to lose it.
    for (int i = 0; i < 20; i++) {
      Answer answer = sendSwitchover(client, chunked, null, body);
      assertThat(answer.code()).isEqualTo(code);
      if (client.equals("java.net.http") || !configured) {
        assertThat(answer.body()).contains(configured ? "authentication required" : "api.auth");
      }
    }
    assertThat(etcd).isEmpty();
  }

  /**
   * Content-Length alone says the body is too large: the answer comes before any of the body is sent, so a
   * client on a slow link is not cut off by the request limit first with no answer at all.
   */
  @Test
  void aBodyDeclaredOverTheLimitIsRefusedBeforeItArrives() throws Exception {
    status.set(primary());
    try (Socket s = headersOnly("POST /switchover", 100_000, BasicAuth.header("admin", "s3cret"))) {
      String answer = answer(s);
      assertThat(answer).startsWith("HTTP/1.1 413 ").contains("larger than 65536 bytes");
    }
    assertThat(etcd).doesNotContainKey(KEYS.switchover());
  }

  /**
   * The server also cuts off a call not answered within 30 s of the request's arrival: a
   * call that waited in the queue behind slow etcd calls for too long is answered 503 before it starts
   * etcd waits of its own that could run past that.
   */
  @Test
  void aChangingCallThatWaitedTooLongInTheQueueIsRefusedWith503() throws Exception {
    status.set(primary());
    List<Integer> holders = withBothChangeThreadsHeld(() -> {
      int before = clockReads.get();
      CompletableFuture<HttpResponse<String>> late = postSwitchover();
      await("the call is queued").atMost(Duration.ofSeconds(20)).until(() -> clockReads.get() > before);
      now.addAndGet(Duration.ofSeconds(16).toNanos());
      etcdHangs.countDown();
      HttpResponse<String> r = late.get(20, TimeUnit.SECONDS);
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.body()).contains("waited too long");
      assertThat(etcd).doesNotContainKey(KEYS.switchover());
    });
    assertThat(holders).containsOnly(404);
    // A call that did not wait long is served as before.
    assertThat(post("/switchover", "{\"leader\":\"node1\",\"candidate\":\"node2\"}").statusCode()).isEqualTo(202);
  }

  // ---- synchronous standbys ----

  @ParameterizedTest(name = "recorded {0}, streaming {1}: {2} -> {3}")
  @CsvSource({
      "true, true, /sync, 200", "true, true, /synchronous, 200", "true, true, /async, 503",
      "true, true, /asynchronous, 503", "false, true, /sync, 503", "false, true, /async, 200",
      "true, false, /sync, 503", "false, false, /async, 503", "true, true, /sync?lag=16MB, 200",
      "true, true, /sync?lag=1kB, 503", "true, true, HEAD /sync, 200", "true, true, /sync?lag=lots, 400",
      "true, true, /read-only-sync, 200", "true, true, /read-only-synchronous, 200", "false, true, /read-only-sync, 503",
      "true, false, /read-only-sync, 503", "true, true, /read-only-sync?lag=1kB, 503",
      "true, true, /read-only-sync?lag=lots, 400", "true, true, /standby-leader, 503"})
  void syncAndAsyncFollowTheRecordedTopology(boolean recorded, boolean streaming, String request, int code)
      throws Exception {
    status.set(withTopology(replica(1, streaming, Tags.NONE), recorded ? java.util.List.of("node2") : java.util.List.of()));
    String method = request.startsWith("HEAD ") ? "HEAD" : "GET";
    assertThat(call(method, request.replace("HEAD ", ""), null, null).statusCode()).isEqualTo(code);
  }

  @Test
  void thePrimaryIsNeitherSyncNorAsync() throws Exception {
    status.set(withTopology(primary(), java.util.List.of("node2")));
    assertThat(call("GET", "/sync", null, null).statusCode()).isEqualTo(503);
    assertThat(call("GET", "/async", null, null).statusCode()).isEqualTo(503);
  }

  // ---- metrics ----

  @Test
  void metricsCarryTheScopeLagPerReplicaFailoversPauseAndLease() throws Exception {
    AgentStatus p = primary();
    ClusterView c = p.observation().cluster();
    Map<String, Member> members = new java.util.TreeMap<>(c.members());
    members.put("node3", new Member(member("node3", Role.REPLICA, new Lsn(PRIMARY_LSN.value() - 5000), true,
        Tags.NONE), 1, 7));
    var history = java.util.List.of(
        new io.pgwarden.common.model.HistoryEntry(1, "bootstrap", null, "node2", 1, null, null, "b"),
        new io.pgwarden.common.model.HistoryEntry(2, "failover", "node2", "node1", 2, null, null, "f"),
        new io.pgwarden.common.model.HistoryEntry(3, "switchover", "node1", "node2", 3, null, null, "s"),
        new io.pgwarden.common.model.HistoryEntry(4, "failover", "node2", "node1", 4, null, null, "f"));
    DynamicConfig paused = new DynamicConfig(null, null, null, null, null, null, true, null);
    ClusterView withAll = new ClusterView(true, null, 10, "1", c.leader(), members, null, history, paused, null);
    status.set(status(p.member(), p.observation().local(), withAll));

    String m = call("GET", "/metrics", null, null).body();

    assertThat(m).contains("pgwarden_primary{scope=\"t\",name=\"node1\"} 1")
        .contains("pgwarden_replication_lag_bytes{scope=\"t\",name=\"node1\",member=\"node2\"} 0")
        .contains("pgwarden_replication_lag_bytes{scope=\"t\",name=\"node1\",member=\"node3\"} 5000")
        .doesNotContain("member=\"node1\"")
        .contains("pgwarden_failovers_total{scope=\"t\",name=\"node1\"} 2")
        .contains("pgwarden_switchovers_total{scope=\"t\",name=\"node1\"} 1")
        .contains("# TYPE pgwarden_failovers_total counter")
        .contains("pgwarden_paused{scope=\"t\",name=\"node1\"} 1")
        .contains("pgwarden_lease_seconds_left{scope=\"t\",name=\"node1\"} 10");
    // Every sample line is `name{labels} number`.
    for (String line : m.split("\n")) {
      if (!line.startsWith("#")) {
        assertThat(line).matches("[a-z_]+\\{[^}]*\\} -?[0-9.E]+");
      }
    }
  }

  @Test
  void labelValuesAreEscaped() {
    assertThat(Metrics.label("a\"b\\c\nd")).isEqualTo("a\\\"b\\\\c\\nd");
  }

  // ---- authentication of changing calls ----

  @Test
  void theRightPasswordIsAccepted() throws Exception {
    status.set(primary());
    HttpResponse<String> r = call("POST", "/restart", "admin", "s3cret");
    assertThat(r.statusCode()).isEqualTo(202);
    assertThat(requests.peek()).isEqualTo(OperatorRequest.RESTART);
    // One at a time: the loop has not taken the first yet.
    assertThat(call("POST", "/reload", "admin", "s3cret").statusCode()).isEqualTo(409);
    assertThat(requests.peek()).isEqualTo(OperatorRequest.RESTART);
  }

  @ParameterizedTest(name = "{0}, {1} -> {2}")
  @CsvSource(delimiter = '|', value = {
      "primary | {\"role\":\"primary\"} | 202", "primary | {\"role\":\"master\"} | 202",
      "primary | {\"role\":\"replica\"} | 503", "replica | {\"role\":\"replica\"} | 202",
      "primary | {\"restart_pending\":true} | 503", "primary | {\"restart_pending\":false} | 202",
      "primary | {\"schedule\":\"2026-12-01T03:00:00Z\"} | 400", "primary | {\"role\":\"standby\"} | 400",
      "primary | [] | 400", "primary | {\"role\" | 400", "primary | '' | 202"})
  void restartTakesPatronisConditions(String who, String body, int code) throws Exception {
    status.set(who.equals("primary") ? primary() : replica(0, true, Tags.NONE));
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base() + "/restart"))
        .header("Authorization", BasicAuth.header("admin", "s3cret"))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(code);
    assertThat(requests.peek()).isEqualTo(code == 202 ? OperatorRequest.RESTART : null);
  }

  @Test
  void restartPendingRestartsAMemberWithSettingsWaiting() throws Exception {
    AgentStatus p = primary();
    MemberStatus m = p.member();
    MemberStatus pending = new MemberStatus(m.name(), m.role(), m.state(), m.timeline(), m.lsn(), m.replayedLsn(),
        m.streaming(), m.upstream(), m.apiUrl(), m.connUrl(), m.systemId(), m.tags(), m.version(), m.term(), true);
    status.set(new AgentStatus(pending, p.observation(), p.decision(), now.get(), 1, 1));
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base() + "/restart"))
        .header("Authorization", BasicAuth.header("admin", "s3cret"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"restart_pending\":true,\"role\":\"primary\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    assertThat(requests.peek()).isEqualTo(OperatorRequest.RESTART);
  }

  @Test
  void theLeaderRefusesReinitInItsAnswerNotOnlyInItsLog() throws Exception {
    status.set(primary());
    for (String path : new String[] {"/reinit", "/reinitialize"}) {
      HttpResponse<String> r = call("POST", path, "admin", "s3cret");
      assertThat(r.statusCode()).as(path).isEqualTo(503);
      assertThat(r.body()).contains("I am the leader");
    }
    assertThat(requests.peek()).isNull();
  }

  @Test
  void aMemberBusyWithABaseBackupRefusesRequestsRatherThanQueueThem() throws Exception {
    AgentStatus r = replica(0, false, Tags.NONE);
    Observation o = r.observation();
    Observation busy = new Observation(o.me(), o.tags(), o.cluster(), o.local(), o.lease(),
        new io.pgwarden.common.model.InFlight(io.pgwarden.common.model.InFlight.Kind.BASE_BACKUP, "node1"),
        o.leaderAbsentFor(), o.leaderAbsentSince(), o.lastPrimaryPosition(), o.rewindFailed());
    status.set(new AgentStatus(r.member(), busy, r.decision(), now.get(), 1, 1));
    for (String path : new String[] {"/reinit", "/restart", "/reload"}) {
      HttpResponse<String> answer = call("POST", path, "admin", "s3cret");
      assertThat(answer.statusCode()).as(path).isEqualTo(503);
      assertThat(answer.body()).contains("in progress on this member");
    }
    assertThat(requests.peek()).isNull();
  }

  @Test
  void reinitializeIsPatronisNameForReinit() throws Exception {
    status.set(replica(0, true, Tags.NONE));
    assertThat(call("POST", "/reinitialize", "admin", "s3cret").statusCode()).isEqualTo(202);
    assertThat(requests.peek()).isEqualTo(OperatorRequest.REINIT);
  }

  @ParameterizedTest(name = "{0}:{1} -> 401")
  @CsvSource({"admin, wrong", "admin, s3cret2", "root, s3cret", "admin, ''"})
  void aWrongPasswordGets401AndChangesNothing(String user, String password) throws Exception {
    status.set(primary());
    for (String path : new String[] {"/restart", "/reload", "/reinit", "/switchover", "/failover"}) {
      HttpResponse<String> r = call("POST", path, user, password);
      assertThat(r.statusCode()).as(path).isEqualTo(401);
      assertThat(r.headers().firstValue("WWW-Authenticate")).as(path).hasValueSatisfying(h -> assertThat(h).startsWith("Basic"));
    }
    assertThat(requests.peek()).isNull();
    assertThat(etcd).isEmpty();
  }

  @Test
  void noCredentialsGet401() throws Exception {
    status.set(primary());
    assertThat(call("POST", "/restart", null, null).statusCode()).isEqualTo(401);
    assertThat(call("DELETE", "/switchover", null, null).statusCode()).isEqualTo(401);
    assertThat(call("PUT", "/config", null, null).statusCode()).isEqualTo(401);
    assertThat(requests.peek()).isNull();
  }

  @Test
  void withoutApiAuthConfiguredEveryChangingCallIsRefusedWith403() throws Exception {
    startWith(null);
    status.set(primary());
    HttpResponse<String> r = call("POST", "/restart", "admin", "s3cret");
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("api.auth");
    assertThat(call("POST", "/switchover", null, null).statusCode()).isEqualTo(403);
    assertThat(requests.peek()).isNull();
    assertThat(etcd).isEmpty();
    // Health checks stay open.
    assertThat(call("GET", "/primary", null, null).statusCode()).isEqualTo(200);
  }

  // ---- switchover through the REST API ----

  @Test
  void switchoverWritesTheRequestOnceAndCanBeCancelled() throws Exception {
    status.set(primary());
    HttpResponse<String> r = post("/switchover", "{\"leader\":\"node1\",\"candidate\":\"node2\"}");
    assertThat(r.statusCode()).isEqualTo(202);
    Switchover s = Json.LENIENT.readValue(etcd.get(KEYS.switchover()), Switchover.class);
    assertThat(s).isEqualTo(new Switchover("node1", "node2", null, false, false));

    assertThat(post("/switchover", "{\"leader\":\"node1\",\"candidate\":\"node2\"}").statusCode()).isEqualTo(409);
    assertThat(call("DELETE", "/switchover", "admin", "s3cret").statusCode()).isEqualTo(200);
    assertThat(etcd).doesNotContainKey(KEYS.switchover());
    assertThat(call("DELETE", "/switchover", "admin", "s3cret").statusCode()).isEqualTo(404);
  }

  @Test
  void switchoverFromANonLeaderOrToAnUnknownMemberIsRefused() throws Exception {
    status.set(primary());
    assertThat(post("/switchover", "{\"leader\":\"node2\",\"candidate\":\"node1\"}").statusCode()).isEqualTo(412);
    assertThat(post("/switchover", "{\"candidate\":\"node9\"}").statusCode()).isEqualTo(412);
    assertThat(post("/switchover", "{\"leader\":").statusCode()).isEqualTo(400);
    assertThat(post("/failover", "{}").statusCode()).isEqualTo(412);
    assertThat(etcd).isEmpty();
  }

  @Test
  void failoverIsAForcedSwitchover() throws Exception {
    status.set(primary());
    assertThat(post("/failover", "{\"candidate\":\"node2\"}").statusCode()).isEqualTo(202);
    Switchover s = Json.LENIENT.readValue(etcd.get(KEYS.switchover()), Switchover.class);
    assertThat(s.to()).isEqualTo("node2");
    assertThat(s.force()).isTrue();
    assertThat(s.allowDataLoss()).isFalse();
  }

  // ---- fixtures ----

  private HttpResponse<String> post(String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(base() + path))
            .header("Authorization", BasicAuth.header("admin", "s3cret"))
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A status code and the body that came with it, as a client saw them. */
  private record Answer(int code, String body) {}

  /**
   * POST /switchover with {@code body} through one of the JDK clients: java.net.http reads while it sends,
   * HttpURLConnection sends the whole body before it reads.
   *
   * @param authorization the Authorization header, or null for none
   */
  private Answer sendSwitchover(String client, boolean chunked, String authorization, byte[] body) throws Exception {
    if (client.equals("java.net.http")) {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + "/switchover"))
          .POST(chunked
              ? HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body))
              : HttpRequest.BodyPublishers.ofByteArray(body));
      if (authorization != null) {
        b.header("Authorization", authorization);
      }
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Answer(r.statusCode(), r.body());
    }
    java.net.HttpURLConnection c = (java.net.HttpURLConnection) URI.create(base() + "/switchover").toURL().openConnection();
    c.setConnectTimeout(20_000);
    c.setReadTimeout(20_000);
    c.setRequestMethod("POST");
    if (authorization != null) {
      c.setRequestProperty("Authorization", authorization);
    }
    c.setDoOutput(true);
    if (chunked) {
      c.setChunkedStreamingMode(8192);
    } else {
      c.setFixedLengthStreamingMode(body.length);
    }
    try (java.io.OutputStream out = c.getOutputStream()) {
      out.write(body);
    }
    int code = c.getResponseCode();
    try (java.io.InputStream in = code >= 400 ? c.getErrorStream() : c.getInputStream()) {
      // None for a 401 that asks for credentials: in streaming mode the client cannot send the body again, and
      // gives up on the answer.
      return new Answer(code, in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  private HttpResponse<String> call(String method, String path, String user, String password) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path))
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (user != null) {
      b.header("Authorization", BasicAuth.header(user, password));
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The longest the server lets a request take to arrive whole, with a little for its timer to run late. */
  private static Duration requestCutoff() {
    return LIMITS.request().plusMillis(500);
  }

  /** A connection that sent the start of a request and nothing more, as a client that hung would. */
  private Socket halfARequest() throws IOException {
    Socket s = new Socket("127.0.0.1", api.address().getPort());
    s.getOutputStream().write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    return s;
  }

  /** A connection that sent a request's headers, announcing a body of {@code length} bytes, and none of the body. */
  private Socket headersOnly(String requestLine, int length, String authorization) throws IOException {
    Socket s = new Socket("127.0.0.1", api.address().getPort());
    s.setSoTimeout(20_000);
    String head = requestLine + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + (authorization == null ? "" : "Authorization: " + authorization + "\r\n")
        + "Content-Length: " + length + "\r\n\r\n";
    s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    return s;
  }

  /**
   * The response on {@code s}, headers and a body of the Content-Length they give; as much as came when the
   * server closed the connection instead (empty if nothing did).
   */
  private static String answer(Socket s) throws IOException {
    java.io.InputStream in = s.getInputStream();
    java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
    int length = -1;
    try {
      int b;
      while (length < 0 && (b = in.read()) != -1) {
        got.write(b);
        String head = got.toString(StandardCharsets.US_ASCII);
        if (head.endsWith("\r\n\r\n")) {
          var m = java.util.regex.Pattern.compile("(?im)^content-length: *(\\d+)").matcher(head);
          length = m.find() ? Integer.parseInt(m.group(1)) : 0;
        }
      }
      if (length > 0) {
        got.write(in.readNBytes(length));
      }
    } catch (java.net.SocketException reset) {
      // What came before the reset is the answer the client would have seen.
    }
    return got.toString(StandardCharsets.UTF_8);
  }

  private static boolean closedByServer(Socket s) {
    try {
      return s.getInputStream().read() == -1;
    } catch (IOException reset) {
      return true;
    }
  }

  private String base() {
    return "http://127.0.0.1:" + api.address().getPort();
  }

  private static MemberStatus member(String name, Role role, Lsn lsn, boolean streaming, Tags tags) {
    return new MemberStatus(name, role, "running", 1L, lsn, lsn, streaming, null, "http://127.0.0.1:1",
        "127.0.0.1:5432", "1", tags, "dev", 1L);
  }

  private ClusterView cluster(MemberStatus... ms) {
    Map<String, Member> members = new java.util.TreeMap<>();
    for (MemberStatus m : ms) {
      members.put(m.name(), new Member(m, 1, 7));
    }
    return new ClusterView(true, null, 10, "1", new LeaderRecord("node1", 7, 5), members, null, null,
        DynamicConfig.DEFAULTS, null);
  }

  private AgentStatus primary() {
    MemberStatus me = member("node1", Role.PRIMARY, PRIMARY_LSN, false, Tags.NONE);
    LocalPgState local = new LocalPgState(DataDirState.VALID, true, false, ControlState.IN_PRODUCTION, "1", 1L,
        PRIMARY_LSN, null, false, null, null, null, true, null);
    return status(me, local, cluster(me, member("node2", Role.REPLICA, PRIMARY_LSN, true, Tags.NONE)));
  }

  private AgentStatus replica(long lagMb, boolean streaming, Tags tags) {
    Lsn lsn = new Lsn(PRIMARY_LSN.value() - lagMb * 1024 * 1024);
    MemberStatus me = member("node2", Role.REPLICA, lsn, streaming, tags);
    LocalPgState local = new LocalPgState(DataDirState.VALID, true, true, ControlState.IN_ARCHIVE_RECOVERY, "1", 1L,
        lsn, lsn, streaming, "127.0.0.1:5432", null, null, true, null);
    return status(me, local, cluster(member("node1", Role.PRIMARY, PRIMARY_LSN, false, Tags.NONE), me));
  }

  private AgentStatus stopped() {
    MemberStatus me = new MemberStatus("node2", Role.REPLICA, "stopped", null, null, null, false, null, null, null,
        null, null, "dev", null);
    LocalPgState local = new LocalPgState(DataDirState.VALID, false, false, ControlState.SHUT_DOWN_IN_RECOVERY, "1",
        1L, null, null, false, null, null, null, false, null);
    return status(me, local, cluster(member("node1", Role.PRIMARY, PRIMARY_LSN, false, Tags.NONE), me));
  }

  private AgentStatus status(MemberStatus me, LocalPgState local, ClusterView cluster) {
    Observation o = new Observation(me.name(), me.tags(), cluster, local,
        new LeaseState(7, true, Duration.ofSeconds(10)), null, null, 0, null, false);
    return new AgentStatus(me, o, Decision.noAction("test", Duration.ofSeconds(1)), now.get(), 1, 1);
  }

  private AgentStatus withTopology(AgentStatus s, java.util.List<String> sync) {
    ClusterView c = s.observation().cluster();
    ClusterView t = new ClusterView(true, null, c.revision(), c.initialize(), c.leader(), c.members(),
        new io.pgwarden.common.model.Topology(1, "node1", 1, sync), c.history(), c.config(), c.errors());
    return status(s.member(), s.observation().local(), t);
  }

  private static Observation withLease(Observation o, LeaseState lease) {
    return new Observation(o.me(), o.tags(), o.cluster(), o.local(), lease, o.inFlight(), o.leaderAbsentFor(),
        o.leaderAbsentSince(), o.lastPrimaryPosition(), o.rewindFailed());
  }

  /** Just the calls the REST API makes, on a map; anything else fails the test loudly. */
  private ClusterStore fakeStore() {
    return (ClusterStore) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ClusterStore.class},
        (proxy, m, args) -> switch (m.getName()) {
          case "putIfAbsent" -> etcd.putIfAbsent((String) args[0], (String) args[1]) == null;
          case "get" -> {
            if (etcdFails != null) {
              throw etcdFails;
            }
            etcdWaiting.incrementAndGet();
            try {
              etcdHangs.await();
            } finally {
              etcdWaiting.decrementAndGet();
            }
            String v = etcd.get((String) args[0]);
            yield v == null ? null : new RawKv((String) args[0], v, 1, 1, 1, 0);
          }
          case "deleteIfValue" -> etcd.remove((String) args[0], (String) args[1]);
          // Every key the fake holds is at revision 1 (what "get" answers), an absent one at 0.
          case "putIfModRevision" -> {
            String key = (String) args[0];
            boolean present = etcd.containsKey(key);
            boolean ok = (long) args[2] == (present ? 1 : 0);
            if (ok) {
              etcd.put(key, (String) args[1]);
            }
            yield ok;
          }
          case "close" -> null;
          default -> throw new UnsupportedOperationException(m.getName());
        });
  }
}
