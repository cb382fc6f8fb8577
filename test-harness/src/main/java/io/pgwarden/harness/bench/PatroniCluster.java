package io.pgwarden.harness.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.agent.local.EtcdServer;
import io.pgwarden.agent.local.FreePorts;
import io.pgwarden.agent.local.LocalCluster;
import io.pgwarden.agent.local.Processes;
import io.pgwarden.common.json.Json;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Three Patroni nodes (Debian's {@code patroni}, 3.0.x) on loopback with their own etcd, configured like a
 * pgwarden local cluster: the same PostgreSQL parameters, pg_hba (scram-sha-256), replication user, slots,
 * checksums. Each {@code patroni <yaml>} runs as the {@code postgres} OS user through setpriv when we are root,
 * as LocalCluster runs pgwarden's agents. {@link #close()} stops every process, also after a failure.
 */
public final class PatroniCluster implements BenchCluster {
  public static final String SCOPE = "bench";
  public static final String NAMESPACE = "/service/";
  private static final String SUPERUSER = "postgres";
  private static final String SU_PASSWORD = "bench-su-" + Long.toHexString(System.nanoTime());
  private static final String REPL_PASSWORD = "bench-repl-" + Long.toHexString(System.nanoTime());

  record Node(String name, int pgPort, int apiPort, Path dir, Path config, Path log) {
    Path dataDir() {
      return dir.resolve("data");
    }
  }

  private final Path base;
  private final EtcdServer etcd;
  private final List<Node> nodes;
  private final Map<String, Process> agents = new LinkedHashMap<>();
  private final boolean sync;
  private final Path ctlConfig;
  private Thread hook;
  private boolean stopped;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).proxy(HttpClient.Builder.NO_PROXY).build();

  private PatroniCluster(Path base, EtcdServer etcd, List<Node> nodes, boolean sync, Path ctlConfig) {
    this.base = base;
    this.etcd = etcd;
    this.nodes = nodes;
    this.sync = sync;
    this.ctlConfig = ctlConfig;
  }

  public static boolean installed() {
    return onPath("patroni") && onPath("patronictl");
  }

  private static boolean onPath(String prog) {
    String path = System.getenv("PATH");
    return path != null && Stream.of(path.split(File.pathSeparator)).anyMatch(d -> Files.isExecutable(Path.of(d, prog)));
  }

  public static String version() {
    return run(List.of("patroni", "--version"), Duration.ofSeconds(30)).strip();
  }

  /**
   * @param dcs the bootstrap.dcs settings: ttl, loop_wait, retry_timeout, synchronous_mode (Patroni's defaults
   *     when absent: 30, 10, 10, off)
   */
  public static PatroniCluster start(int n, Map<String, Object> dcs) {
    Path base;
    try {
      base = Files.createTempDirectory("patroni-bench-");
      Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    EtcdServer etcd = null;
    PatroniCluster c = null;
    try {
      etcd = EtcdServer.start(base.resolve("etcd"), 1);
      String etcdHostPort = URI.create(etcd.endpoints().get(0)).getAuthority();
      List<Integer> ports = FreePorts.take(2 * n);
      List<Node> nodes = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String name = "node" + (i + 1);
        Path dir = base.resolve(name);
        Files.createDirectories(dir);
        nodes.add(new Node(name, ports.get(2 * i), ports.get(2 * i + 1), dir, dir.resolve("patroni.yaml"),
            dir.resolve("patroni.log")));
      }
      for (Node node : nodes) {
        Files.writeString(node.config(), Json.YAML.writeValueAsString(config(node, etcdHostPort, dcs)));
      }
      Path ctl = base.resolve("patronictl.yaml");
      Files.writeString(ctl, Json.YAML.writeValueAsString(Map.of("scope", SCOPE, "namespace", NAMESPACE,
          "etcd3", Map.of("hosts", etcdHostPort))));
      if (LocalCluster.isRoot()) {
        String out = run(List.of("chown", "-R", "postgres:postgres", base.toString()), Duration.ofSeconds(60));
        if (!out.isBlank()) {
          System.err.println("chown: " + out);
        }
      }
      c = new PatroniCluster(base, etcd, List.copyOf(nodes), Boolean.TRUE.equals(dcs.get("synchronous_mode")), ctl);
      PatroniCluster started = c;
      // A killed or timed-out benchmark JVM must not leave Patroni, PostgreSQL or etcd behind.
      c.hook = new Thread(started::stopAll, "patroni-cluster-cleanup");
      Runtime.getRuntime().addShutdownHook(c.hook);
      for (Node node : nodes) {
        c.restart(node.name());
      }
      return c;
    } catch (IOException | RuntimeException e) {
      if (c != null) {
        c.close();
      } else {
        if (etcd != null) {
          etcd.close();
        }
        deleteQuietly(base);
      }
      throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
    }
  }

  /** Equivalent to LocalCluster's node config and PostgresNode's managed settings. */
  private static Map<String, Object> config(Node n, String etcdHostPort, Map<String, Object> dcs) {
    Map<String, Object> params = new LinkedHashMap<>();
    params.put("shared_buffers", "32MB");
    params.put("max_connections", 100);
    params.put("wal_level", "replica");
    params.put("hot_standby", "on");
    params.put("max_wal_senders", 10);
    params.put("max_replication_slots", 10);
    params.put("wal_keep_size", "256MB");
    params.put("wal_log_hints", "on");
    params.put("hot_standby_feedback", "on");
    // pgwarden's default since the twelfth session (PostgreSQL's is 5s): a standby's retry after its
    // walreceiver could not start; the same for both, so that rejoins compare the tools, not this setting.
    params.put("wal_retrieve_retry_interval", "1s");
    params.put("password_encryption", "scram-sha-256");
    Map<String, Object> dcsPg = new LinkedHashMap<>();
    dcsPg.put("use_pg_rewind", true);
    dcsPg.put("use_slots", true);
    dcsPg.put("parameters", params);
    Map<String, Object> d = new LinkedHashMap<>(dcs);
    d.put("postgresql", dcsPg);
    List<String> hba = new ArrayList<>();
    hba.add("local all all scram-sha-256");
    for (String net : List.of("127.0.0.1/32", "::1/128", "0.0.0.0/0", "::/0")) {
      hba.add("host all all " + net + " scram-sha-256");
      hba.add("host replication replicator " + net + " scram-sha-256");
    }
    Map<String, Object> pg = new LinkedHashMap<>();
    pg.put("listen", "127.0.0.1:" + n.pgPort());
    pg.put("connect_address", "127.0.0.1:" + n.pgPort());
    pg.put("data_dir", n.dataDir().toString());
    pg.put("bin_dir", LocalCluster.DEFAULT_BIN_DIR);
    pg.put("pgpass", n.dir().resolve("pgpass").toString());
    pg.put("authentication", Map.of(
        "superuser", Map.of("username", SUPERUSER, "password", SU_PASSWORD),
        "replication", Map.of("username", "replicator", "password", REPL_PASSWORD)));
    pg.put("parameters", Map.of("unix_socket_directories", n.dir().toString()));
    pg.put("pg_hba", hba);
    Map<String, Object> cfg = new LinkedHashMap<>();
    cfg.put("scope", SCOPE);
    cfg.put("namespace", NAMESPACE);
    cfg.put("name", n.name());
    cfg.put("restapi", Map.of("listen", "127.0.0.1:" + n.apiPort(), "connect_address", "127.0.0.1:" + n.apiPort()));
    cfg.put("etcd3", Map.of("hosts", etcdHostPort));
    cfg.put("bootstrap", Map.of("dcs", d, "initdb",
        List.of(Map.of("encoding", "UTF8"), "data-checksums", Map.of("locale", "C"),
            Map.of("auth-local", "scram-sha-256"), Map.of("auth-host", "scram-sha-256"))));
    cfg.put("postgresql", pg);
    cfg.put("watchdog", Map.of("mode", "off"));
    cfg.put("log", Map.of("level", "INFO"));
    return cfg;
  }

  private Node node(String name) {
    return nodes.stream().filter(n -> n.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no node " + name));
  }

  @Override
  public String tool() {
    return "Patroni";
  }

  @Override
  public List<String> nodes() {
    return nodes.stream().map(Node::name).toList();
  }

  /** Patroni's etcd3 layout: namespace, scope, "leader". */
  @Override
  public String leaderKey() {
    return NAMESPACE + SCOPE + "/leader";
  }

  /** The leader key through etcd's v3 JSON gateway (what `etcdctl get /service/bench/leader` prints). */
  @Override
  public Optional<String> leader() {
    try {
      String key = Base64.getEncoder().encodeToString(leaderKey().getBytes(StandardCharsets.UTF_8));
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(etcd.endpoints().get(0) + "/v3/kv/range"))
          .timeout(Duration.ofSeconds(3)).POST(HttpRequest.BodyPublishers.ofString("{\"key\":\"" + key + "\"}"))
          .build(), HttpResponse.BodyHandlers.ofString());
      JsonNode kvs = Json.LENIENT.readTree(r.body()).path("kvs");
      if (!kvs.isArray() || kvs.isEmpty()) {
        return Optional.empty();
      }
      return Optional.of(new String(Base64.getDecoder().decode(kvs.get(0).path("value").asText()),
          StandardCharsets.UTF_8));
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  private Properties props() {
    Properties p = new Properties();
    p.setProperty("user", SUPERUSER);
    p.setProperty("password", SU_PASSWORD);
    p.setProperty("connectTimeout", "3");
    p.setProperty("socketTimeout", "10");
    p.setProperty("loginTimeout", "5");
    return p;
  }

  @Override
  public Connection connect(String name) throws SQLException {
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + node(name).pgPort() + "/postgres", props());
  }

  @Override
  public Connection connectPrimary() throws SQLException {
    String hosts = nodes.stream().map(n -> "127.0.0.1:" + n.pgPort()).collect(Collectors.joining(","));
    return DriverManager.getConnection("jdbc:postgresql://" + hosts + "/postgres?targetServerType=primary", props());
  }

  @Override
  public boolean synchronous() {
    return sync;
  }

  @Override
  public boolean ready() {
    return streamingCluster(sync);
  }

  @Override
  public void powerOff(String name) {
    Optional<Long> pm = Processes.postmasterPid(node(name).dataDir());
    long agent = agentPid(name);
    Processes.signal(agent, "KILL");
    pm.ifPresent(pid -> Processes.signal(pid, "KILL"));
    Processes.awaitExit(agent, 10);
    pm.ifPresent(pid -> Processes.awaitExit(pid, 10));
  }

  @Override
  public synchronized void restart(String name) {
    Node n = node(name);
    Process old = agents.get(name);
    if (old != null && old.isAlive()) {
      throw new IllegalStateException(name + "'s Patroni still runs (pid " + old.pid() + ")");
    }
    List<String> cmd = new ArrayList<>(List.of("setsid"));
    if (LocalCluster.isRoot()) {
      cmd.addAll(List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"));
    }
    cmd.addAll(List.of("patroni", n.config().toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(n.log().toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().put("HOME", n.dir().toString());
    pb.environment().keySet().removeIf(k -> k.startsWith("PATRONI_") || k.startsWith("PG"));
    try {
      agents.put(name, pb.start());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start patroni for " + name, e);
    }
  }

  @Override
  public String switchoverTarget(String leader) {
    if (sync) {
      // Patroni refuses a switchover to a non-synchronous standby in synchronous mode, and records its
      // synchronous standby in etcd a moment after PostgreSQL shows one (which is all ready() checks).
      return org.awaitility.Awaitility.await("Patroni names a synchronous standby").atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofMillis(200)).until(() -> memberWithRole("sync_standby"), Optional::isPresent)
          .orElseThrow();
    }
    return memberWithRole("replica")
        .orElseGet(() -> nodes().stream().filter(x -> !x.equals(leader)).findFirst().orElseThrow());
  }

  /** The first member Patroni's /cluster (asked of each node in turn) gives {@code role}. */
  private Optional<String> memberWithRole(String role) {
    for (Node n : nodes) {
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.apiPort()
            + "/cluster")).timeout(Duration.ofSeconds(3)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          for (JsonNode m : Json.LENIENT.readTree(r.body()).path("members")) {
            if (m.path("role").asText().equals(role)) {
              return Optional.of(m.path("name").asText());
            }
          }
          return Optional.empty();
        }
      } catch (IOException e) {
        // try the next node
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return Optional.empty();
  }

  @Override
  public void switchover(String from, String to) {
    String out = run(List.of("patronictl", "-c", ctlConfig.toString(), "switchover", "--leader", from,
        "--candidate", to, "--force"), Duration.ofSeconds(120));
    if (!out.contains("Successfully switched over")) {
      throw new IllegalStateException("patronictl switchover failed: " + out);
    }
  }

  @Override
  public long agentPid(String name) {
    Process p = agents.get(name);
    return p == null ? 0 : p.pid();
  }

  @Override
  public List<String> etcdEndpoints() {
    return etcd.endpoints();
  }

  @Override
  public String agentLog(String name) {
    try {
      return Files.readString(node(name).log());
    } catch (IOException e) {
      return "";
    }
  }

  @Override
  public boolean logShowsRewind(String log) {
    return log.contains("running pg_rewind from");
  }

  @Override
  public boolean logShowsBaseBackup(String log) {
    return log.contains("replica has been created using") || log.contains("trying to bootstrap from leader");
  }

  @Override
  public void saveLogs(Path dir) {
    try {
      Files.createDirectories(dir);
      for (Node n : nodes) {
        if (Files.exists(n.log())) {
          Files.copy(n.log(), dir.resolve(n.name() + "-patroni.log"), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      System.err.println("could not save logs: " + e);
    }
  }

  /** SIGTERM every Patroni (it stops PostgreSQL), then SIGKILL what is left, then etcd; deletes the folder. */
  @Override
  public void close() {
    if (hook != null) {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // already shutting down: the hook does the same
      }
    }
    stopAll();
  }

  private synchronized void stopAll() {
    if (stopped) {
      return;
    }
    stopped = true;
    try {
      for (Process p : agents.values()) {
        if (p.isAlive()) {
          p.destroy();
        }
      }
      for (Process p : agents.values()) {
        try {
          if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
          }
        } catch (InterruptedException e) {
          p.destroyForcibly();
          Thread.currentThread().interrupt();
        }
      }
      for (Node n : nodes) {
        Processes.postmasterPid(n.dataDir()).ifPresent(pid -> {
          Processes.signal(pid, "QUIT");
          if (!Processes.awaitExit(pid, 30)) {
            Processes.signal(pid, "KILL");
          }
        });
      }
    } finally {
      etcd.close();
      deleteQuietly(base);
    }
  }

  static String run(List<String> cmd, Duration timeout) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      // Read on this thread; bounded by the process's own end or the timeout below.
      var reader = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
          return e.toString();
        }
      });
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(cmd + " did not finish within " + timeout);
      }
      return reader.get(10, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + cmd, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + cmd, e);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("cannot read the output of " + cmd, e);
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
