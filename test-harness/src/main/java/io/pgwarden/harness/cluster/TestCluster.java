package io.pgwarden.harness.cluster;

import static org.awaitility.Awaitility.await;

import io.pgwarden.agent.etcd.JetcdClusterStore;
import io.pgwarden.agent.local.EtcdServer;
import io.pgwarden.agent.local.LocalCluster;
import io.pgwarden.agent.loop.ClusterViewParser;
import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.common.config.EtcdConfig;
import io.pgwarden.common.config.Keys;
import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Role;
import io.pgwarden.common.model.SynchronousMode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real cluster for tests: etcd and N nodes (agent + PostgreSQL 15) on loopback, started through
 * {@link LocalCluster} exactly as {@code pgwarden local up} does, plus faults and SQL helpers.
 * Every process is stopped by {@link #close()}, even when the test failed.
 */
public final class TestCluster implements AutoCloseable {
  /** Lease settings for tests: long enough that a GC pause or a busy core does not fail a test. */
  public static final Map<String, Object> TEST_TIMING = Map.of("ttl", 12, "loop_wait", 2, "retry_timeout", 5);
  private static final Pattern LOOP_TICKS = Pattern.compile("(?m)^pgwarden_loop_ticks_total(?:\\{[^}]*})? (\\d+)$");
  private static final HttpClient LOCAL_HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private final LocalCluster local;
  private final ClusterStore store;
  private final Keys keys;
  private final ClusterViewParser parser;

  private TestCluster(LocalCluster local) {
    this.local = local;
    LocalCluster.State s = local.state();
    this.store = JetcdClusterStore.connect(new EtcdConfig(s.etcdEndpoints(), null, null), null);
    this.keys = new Keys(s.namespace(), s.scope());
    this.parser = new ClusterViewParser(keys);
  }

  public static TestCluster start(int nodes) {
    return start(nodes, TEST_TIMING);
  }

  /** The agents' JVM options: those of bin/pgwarden (LocalCluster adds its environment). */
  public static final List<String> AGENT_JVM = io.pgwarden.agent.local.AgentJvm.options();

  public static TestCluster start(int nodes, Map<String, Object> dynamic) {
    return start(nodes, dynamic, AGENT_JVM);
  }

  public static TestCluster start(int nodes, Map<String, Object> dynamic, List<String> jvmArgs) {
    return start(nodes, dynamic, jvmArgs, null);
  }

  /** @param nodeConfig extra top-level fields of each node's YAML config, by node name (e.g. callbacks) */
  public static TestCluster start(int nodes, Map<String, Object> dynamic, List<String> jvmArgs,
      java.util.function.Function<String, Map<String, Object>> nodeConfig) {
    // Without the class-data sharing archive of bin/pgwarden and `local up`: making one takes seconds
    // of CPU per cluster, and the agents behave the same (ClassDataSharingIT runs with it).
    return start(nodes, dynamic, jvmArgs, nodeConfig, false);
  }

  /** @param classDataSharing see {@link LocalCluster.Options} */
  public static TestCluster start(int nodes, Map<String, Object> dynamic, List<String> jvmArgs,
      java.util.function.Function<String, Map<String, Object>> nodeConfig, boolean classDataSharing) {
    String jar = System.getProperty("pgwarden.jar");
    if (jar == null || !Files.isRegularFile(Path.of(jar))) {
      throw new IllegalStateException("system property pgwarden.jar must name the built agent jar (got " + jar
          + "); run through Maven: mvn verify");
    }
    try {
      Path base = Files.createTempDirectory("pgwarden-it-");
      // The agents may run as the unprivileged postgres user: they must be able to walk in.
      Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
      LocalCluster lc = LocalCluster.up(new LocalCluster.Options(base.resolve("cluster"), nodes, "it", Path.of(jar),
          dynamic, jvmArgs, 1, LocalCluster.DEFAULT_BIN_DIR, nodeConfig, classDataSharing));
      return new TestCluster(lc);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public LocalCluster local() {
    return local;
  }

  public List<String> nodes() {
    return local.nodeNames();
  }

  /** The cluster's etcd keys (its namespace and scope). */
  public Keys keys() {
    return keys;
  }

  public EtcdServer etcd() {
    return local.etcd().orElseThrow();
  }

  public String etcdctlLeaderCommand() {
    return local.etcdctlLeaderCommand();
  }

  // ---- cluster state through etcd ----

  /** One read of the scope; null when etcd does not answer. */
  public ClusterView view() {
    try {
      return parser.parse(store.readPrefix(keys.prefix(), Duration.ofSeconds(3)), DynamicConfig.DEFAULTS).view();
    } catch (RuntimeException e) {
      return null;
    }
  }

  /**
   * The scope as read within 30 s (a slow etcd on a loaded machine gets retries): for a test that
   * dereferences the view, which would fail with a NullPointerException on {@link #view()}'s null.
   */
  public ClusterView viewNow() {
    return await("a read of the cluster view").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
        .until(this::view, java.util.Objects::nonNull);
  }

  /** Waits until the cluster is {@link #healthy()} (3 minutes at most) and returns its leader. */
  public String awaitHealthy() {
    return awaitHealthy("healthy", Duration.ofMinutes(3));
  }

  public String awaitHealthy(String what, Duration atMost) {
    // The leader is read in the same poll that found the cluster healthy, not in a read after it.
    return await(what).atMost(atMost).pollInterval(Duration.ofSeconds(1))
        .until(() -> healthy() ? leader() : Optional.<String>empty(), Optional::isPresent).orElseThrow();
  }

  public Optional<String> leader() {
    ClusterView v = view();
    return v == null || !v.hasLeader() ? Optional.empty() : Optional.of(v.leader().holder());
  }

  public Optional<MemberStatus> member(String name) {
    ClusterView v = view();
    return v == null ? Optional.empty() : Optional.ofNullable(v.member(name));
  }

  /** Leader holds the key and runs as primary; every other node streams from it. */
  public boolean healthy() {
    ClusterView v = view();
    if (v == null || !v.hasLeader()) {
      return false;
    }
    String leader = v.leader().holder();
    MemberStatus l = v.member(leader);
    if (l == null || l.role() != Role.PRIMARY || !isWritable(leader)) {
      return false;
    }
    for (String n : nodes()) {
      if (n.equals(leader)) {
        continue;
      }
      MemberStatus m = v.member(n);
      if (m == null || m.role() != Role.REPLICA || !m.streaming() || !l.connUrl().equals(m.upstream())) {
        return false;
      }
    }
    if (nodes().size() > 1 && v.config().synchronousMode() != SynchronousMode.OFF) {
      // Until a synchronous standby is recorded and in use, a failover would have no candidate.
      if (v.topology() == null || v.topology().syncStandbys().isEmpty()) {
        return false;
      }
      return tryQuery(leader, "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")
          .map(r -> !r.get(0).equals("0")).orElse(false);
    }
    return true;
  }

  // ---- SQL ----

  public Connection connect(String node) throws SQLException {
    return DriverManager.getConnection(local.jdbcUrl(node), props());
  }

  /** Through the multi-host URL, as the seed's client connected: whichever node is writable. */
  public Connection connectPrimary() throws SQLException {
    return DriverManager.getConnection(local.jdbcUrl(), props());
  }

  private Properties props() {
    Properties p = new Properties();
    p.setProperty("user", local.state().superuser());
    p.setProperty("password", local.superuserPassword());
    p.setProperty("connectTimeout", "3");
    p.setProperty("socketTimeout", "10");
    p.setProperty("loginTimeout", "5");
    return p;
  }

  public void execute(String node, String sql) throws SQLException {
    try (Connection c = connect(node); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  public void executeOnPrimary(String sql) throws SQLException {
    try (Connection c = connectPrimary(); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  public List<String> queryColumn(String node, String sql) throws SQLException {
    try (Connection c = connect(node); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      List<String> out = new ArrayList<>();
      while (rs.next()) {
        out.add(rs.getString(1));
      }
      return out;
    }
  }

  /** Queries {@code node}; empty when it does not answer. */
  public Optional<List<String>> tryQuery(String node, String sql) {
    try {
      return Optional.of(queryColumn(node, sql));
    } catch (SQLException e) {
      return Optional.empty();
    }
  }

  /** Whether {@code node} commits a write right now. */
  public boolean isWritable(String node) {
    try (Connection c = connect(node); Statement st = c.createStatement()) {
      st.setQueryTimeout(5);
      st.execute("CREATE TABLE IF NOT EXISTS pgwarden_probe (at timestamptz)");
      st.execute("INSERT INTO pgwarden_probe VALUES (now())");
      return true;
    } catch (SQLException e) {
      return false;
    }
  }

  public boolean isRunning(String node) {
    return tryQuery(node, "SELECT 1").isPresent();
  }

  // ---- faults ----

  public void powerOff(String node) {
    local.powerOff(node);
  }

  public void killAgent(String node) {
    local.killAgent(node);
  }

  public void killPostmaster(String node) {
    local.killPostmaster(node);
  }

  public void freezeAgent(String node) {
    local.freezeAgent(node);
  }

  public void thawAgent(String node) {
    local.thawAgent(node);
  }

  public void startAgent(String node) {
    local.startAgent(node);
  }

  public void stopEtcd() {
    etcd().stop();
  }

  public void startEtcd() {
    etcd().start();
  }

  // ---- evidence ----

  public String agentLog(String node) {
    try {
      return Files.readString(Path.of(local.node(node).logFile()));
    } catch (IOException e) {
      return "";
    }
  }

  /** The node's PostgreSQL server log (the agent points it at {@code <dataDir>.log}); empty when none yet. */
  public String serverLog(String node) {
    try {
      return Files.readString(Path.of(local.node(node).dataDir() + ".log"));
    } catch (IOException e) {
      return "";
    }
  }

  /** How many times {@code needle} occurs in the server logs of all nodes so far. */
  public int serverLogCount(String needle) {
    return nodes().stream().mapToInt(n -> occurrences(serverLog(n), needle)).sum();
  }

  /** The first node of the cluster that is not {@code node} (for a test that needs "a replica"). */
  public String otherThan(String node) {
    return nodes().stream().filter(n -> !n.equals(node)).findFirst().orElseThrow();
  }

  /** How many loops the node's agent has run (its pgwarden_loop_ticks_total), to wait for loops, not time. */
  public long loopTicks(String node) {
    try {
      HttpResponse<String> r = LOCAL_HTTP.send(HttpRequest.newBuilder(URI.create(local.node(node).apiUrl() + "/metrics"))
          .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
      Matcher m = LOOP_TICKS.matcher(r.body());
      if (!m.find()) {
        throw new IllegalStateException("no pgwarden_loop_ticks_total in " + node + "'s /metrics");
      }
      return Long.parseLong(m.group(1));
    } catch (IOException e) {
      throw new UncheckedIOException(node + "'s /metrics", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Waits (a minute at most) until every node's agent has run {@code more} loops from now: for asserting
   * what did not happen over several loops, without sleeping for a guessed time.
   */
  public void awaitMoreLoops(int more) {
    Map<String, Long> seen = new java.util.HashMap<>();
    for (String n : nodes()) {
      seen.put(n, loopTicks(n));
    }
    await(more + " more loops on every node").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
        .until(() -> nodes().stream().allMatch(n -> loopTicks(n) >= seen.get(n) + more));
  }

  /** How many times {@code needle} occurs in the node's agent log so far. */
  public int agentLogCount(String node, String needle) {
    return occurrences(agentLog(node), needle);
  }

  public static int occurrences(String text, String needle) {
    int n = 0;
    for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
      n++;
    }
    return n;
  }

  /** Data directories moved aside by a base backup: a rewind leaves none. */
  public List<Path> movedAsideDataDirs(String node) {
    Path data = Path.of(local.node(node).dataDir());
    try (Stream<Path> s = Files.list(data.getParent())) {
      return s.filter(p -> p.getFileName().toString().startsWith(data.getFileName() + ".old")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Copies every log to {@code target/cluster-logs/NAME} for a post-mortem. */
  public void saveLogs(String name) {
    Path to = Path.of("target", "cluster-logs", name);
    try {
      Files.createDirectories(to);
      for (String n : nodes()) {
        Path agent = Path.of(local.node(n).logFile());
        if (Files.exists(agent)) {
          Files.copy(agent, to.resolve(n + "-agent.log"), StandardCopyOption.REPLACE_EXISTING);
        }
        Path pgLog = Path.of(local.node(n).dataDir() + ".log");
        if (Files.exists(pgLog)) {
          Files.copy(pgLog, to.resolve(n + "-postgres.log"), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      System.err.println("could not save logs: " + e);
    }
  }

  public String tail(String node, int lines) {
    String[] all = agentLog(node).split("\n");
    StringBuilder b = new StringBuilder();
    for (int i = Math.max(0, all.length - lines); i < all.length; i++) {
      b.append(node).append("| ").append(all[i]).append('\n');
    }
    return b.toString();
  }

  @Override
  public void close() {
    try {
      store.close();
    } finally {
      local.down();
      deleteQuietly(local.dir().getParent());
    }
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("could not delete " + dir + ": " + e);
    }
  }
}
