package io.pgwarden.agent.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgwarden.common.json.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default: etcd plus N nodes (agent + PostgreSQL) on loopback, in the background, with a
 * state folder. Used by {@code pgwarden local} and by the test harness. When run as root it starts
 * the agents as the unprivileged {@code postgres} OS user, since PostgreSQL refuses to run as root.
 */
public final class LocalCluster {
  private static final Logger log = LoggerFactory.getLogger(LocalCluster.class);
  public static final String STATE_FILE = "state.json";
  /** What {@link #down} leaves of {@link #STATE_FILE}: the stopped cluster that {@link #up} starts again. */
  public static final String STOPPED_FILE = "stopped.json";
  public static final String DEFAULT_BIN_DIR = "/usr/lib/postgresql/15/bin";
  public static final String RUN_AS = "postgres";
  private static final ObjectMapper JSON = Json.LENIENT;

  /**
   * @param dynamic initial dynamic config (ttl, loop_wait, ...) written by the bootstrapping node
   * @param jvmArgs extra JVM options for each agent
   * @param classDataSharing whether the agents map their classes from an archive made for this
   *     cluster's copy of the jar (as bin/pgwarden's agents do; see {@link ClassDataSharing}): a few
   *     seconds more at {@code up}, ~2.5 MiB less memory per agent
   * @param nodeConfig extra fields of a node's YAML config (e.g. {@code callbacks}), by node name;
   *     a section given as a map is merged into the generated one; null: none
   */
  public record Options(Path dir, int nodes, String scope, Path jar, Map<String, Object> dynamic,
      List<String> jvmArgs, int etcdMembers, String binDir,
      java.util.function.Function<String, Map<String, Object>> nodeConfig, boolean classDataSharing) {
    public Options(Path dir, int nodes, String scope, Path jar, Map<String, Object> dynamic,
        List<String> jvmArgs, int etcdMembers, String binDir) {
      this(dir, nodes, scope, jar, dynamic, jvmArgs, etcdMembers, binDir, null, false);
    }

    public Options {
      nodeConfig = nodeConfig == null ? name -> Map.of() : nodeConfig;
      if (nodes < 1 || nodes > 9) {
        throw new IllegalArgumentException("--nodes must be 1..9, got " + nodes);
      }
      if (scope == null || !scope.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
        throw new IllegalArgumentException("--scope must be letters, digits, '_', '.', '-', got '" + scope + "'");
      }
      dynamic = dynamic == null ? Map.of() : Map.copyOf(dynamic);
      jvmArgs = jvmArgs == null ? List.of() : List.copyOf(jvmArgs);
      etcdMembers = etcdMembers <= 0 ? 1 : etcdMembers;
      binDir = binDir == null ? DEFAULT_BIN_DIR : binDir;
    }
  }

  /** One node of the local cluster. */
  public record NodeState(String name, int pgPort, int apiPort, String dataDir, String configFile, String logFile,
      long agentPid) {
    NodeState withPid(long pid) {
      return new NodeState(name, pgPort, apiPort, dataDir, configFile, logFile, pid);
    }

    public String apiUrl() {
      return "http://127.0.0.1:" + apiPort;
    }
  }

  /**
   * What {@code state.json} holds: enough for a later CLI call to find and stop everything, and to start
   * it again on the same ports.
   *
   * @param etcdPorts each etcd member's client and peer port ({@link EtcdServer#ports()}); null in a state
   *     written before they were recorded
   */
  public record State(String scope, String namespace, List<String> etcdEndpoints, List<Long> etcdPids,
      String etcdDir, String jar, boolean runAsPostgres, String superuser, String superuserPasswordFile,
      List<NodeState> nodes, List<String> jvmArgs, String apiUser, String apiPasswordFile, List<Integer> etcdPorts) {
    State with(List<NodeState> nodes, List<Long> etcdPids, List<String> jvmArgs, String jar) {
      return new State(scope, namespace, etcdEndpoints, etcdPids, etcdDir, jar, runAsPostgres, superuser,
          superuserPasswordFile, nodes, jvmArgs, apiUser, apiPasswordFile, etcdPorts);
    }
  }

  /** The REST API user of every local node; its password is generated into secrets/api. */
  public static final String API_USER = "pgwarden";

  private final Path dir;
  /** Replaced as agents start, with their pids, and saved each time. */
  private State state;
  /** How long {@link #up} took to make the class-data sharing archive (zero without one, and after load). */
  private final Duration archiveTime;
  private final EtcdServer etcd;

  private LocalCluster(Path dir, State state, EtcdServer etcd, Duration archiveTime) {
    this.dir = dir;
    this.state = state;
    this.etcd = etcd;
    this.archiveTime = archiveTime;
  }

  /**
   * Creates the folder, starts etcd and every node's agent, records the state. In a folder where {@link
   * #down} stopped a cluster, starts that cluster again instead, as it was (see {@link #isStopped}).
   */
  public static LocalCluster up(Options o) {
    Path dir = o.dir().toAbsolutePath();
    if (Files.exists(dir.resolve(STATE_FILE))) {
      throw new IllegalStateException(dir + " already holds a local cluster (" + STATE_FILE
          + "); run `pgwarden local down --dir " + dir + "` first or choose another --dir");
    }
    if (isStopped(dir)) {
      return resume(dir, o);
    }
    List<String> left = leftovers(dir);
    if (!left.isEmpty()) {
      // A new cluster here would make new passwords for old data directories and start beside an etcd
      // that remembers another cluster: agents that cannot log in to their own PostgreSQL.
      throw new IllegalStateException(dir + " holds data of an earlier local cluster (" + String.join(", ", left)
          + ") but no record of it to start it again (" + STOPPED_FILE + "); delete the folder (rm -rf " + dir
          + ") for a new cluster, or choose another --dir");
    }
    boolean root = isRoot();
    try {
      Files.createDirectories(dir);
      if (root) {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        requireReachable(dir);
      }
      requireBinaries(o.binDir());
      Installed installed = installJar(dir, o);
      Path jar = installed.jar();
      List<String> jvmArgs = installed.jvmArgs();
      Path secrets = dir.resolve("secrets");
      Files.createDirectories(secrets);
      Path su = secrets.resolve("superuser");
      Path repl = secrets.resolve("replication");
      Path api = secrets.resolve("api");
      writeSecret(su, randomPassword());
      writeSecret(repl, randomPassword());
      writeSecret(api, randomPassword());
      Files.setPosixFilePermissions(secrets, PosixFilePermissions.fromString("rwx------"));

      List<Integer> ports = FreePorts.take(2 * o.nodes());
      List<NodeState> nodes = new ArrayList<>();
      for (int i = 0; i < o.nodes(); i++) {
        String name = "node" + (i + 1);
        Path nd = dir.resolve(name);
        Files.createDirectories(nd);
        nodes.add(new NodeState(name, ports.get(2 * i), ports.get(2 * i + 1), nd.resolve("data").toString(),
            nd.resolve("pgwarden.yaml").toString(), nd.resolve("agent.log").toString(), 0));
      }
      Path etcdDir = dir.resolve("etcd");
      if (root) {
        chownToRunAs(dir);
      }
      EtcdServer etcd = EtcdServer.start(etcdDir, o.etcdMembers());
      State s = new State(o.scope(), "/pgwarden", etcd.endpoints(), etcd.pids(), etcdDir.toString(), jar.toString(),
          root, "postgres", su.toString(), nodes, jvmArgs, API_USER, api.toString(), etcd.ports());
      for (NodeState n : nodes) {
        writeNodeConfig(s, n, o, repl);
      }
      if (root) {
        chownToRunAs(dir);
      }
      LocalCluster c = new LocalCluster(dir, s, etcd, installed.archiveTime());
      c.save();
      for (NodeState n : nodes) {
        c.startAgent(n.name());
      }
      return c;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the local cluster in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Whether {@code dir} holds a cluster {@link #down} stopped, which {@link #up} starts again. */
  public static boolean isStopped(Path dir) {
    return Files.exists(dir.toAbsolutePath().resolve(STOPPED_FILE));
  }

  /**
   * Starts the stopped cluster in {@code dir} again as it was: its data, passwords, ports (the connection
   * string printed before still works) and etcd, whose dynamic config and history the agents go on from.
   * Of {@code o} only the jar, the JVM options and the binaries are used: the jar may be a newer build.
   */
  private static LocalCluster resume(Path dir, Options o) {
    Path f = dir.resolve(STOPPED_FILE);
    State stopped;
    try {
      stopped = JSON.readValue(f.toFile(), State.class);
    } catch (IOException e) {
      throw new UncheckedIOException(f + " is unreadable: " + e.getMessage()
          + "; delete the folder (rm -rf " + dir + ") for a new cluster", e);
    }
    if (stopped.etcdPorts() == null) {
      throw new IllegalStateException(f + " was written by an older pgwarden that did not record etcd's ports,"
          + " so the cluster cannot start again on them; delete the folder (rm -rf " + dir + ") for a new cluster");
    }
    List<String> busy = new ArrayList<>();
    for (NodeState n : stopped.nodes()) {
      addIfBusy(busy, n.pgPort(), n.name() + "'s PostgreSQL");
      addIfBusy(busy, n.apiPort(), n.name() + "'s REST API");
    }
    for (int i = 0; i < stopped.etcdPorts().size(); i++) {
      addIfBusy(busy, stopped.etcdPorts().get(i), "etcd's " + (i % 2 == 0 ? "client" : "peer") + " port");
    }
    if (!busy.isEmpty()) {
      throw new IllegalStateException("cannot start the stopped cluster in " + dir + " again: "
          + String.join(", ", busy) + " in use by another process now");
    }
    boolean root = isRoot();
    try {
      requireBinaries(o.binDir());
      Installed installed = installJar(dir, o);
      if (root) {
        chownToRunAs(dir);
      }
      EtcdServer etcd = EtcdServer.start(Path.of(stopped.etcdDir()), stopped.etcdPorts());
      State s = stopped.with(stopped.nodes(), etcd.pids(), installed.jvmArgs(), installed.jar().toString());
      LocalCluster c = new LocalCluster(dir, s, etcd, installed.archiveTime());
      c.save();
      Files.deleteIfExists(f);
      log.info("starting the stopped cluster '{}' in {} again", s.scope(), dir);
      for (NodeState n : s.nodes()) {
        c.startAgent(n.name());
      }
      return c;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the local cluster in " + dir + " again: " + e.getMessage(), e);
    }
  }

  private static void addIfBusy(List<String> busy, int port, String what) {
    if (!FreePorts.isFree(port)) {
      busy.add("port " + port + " (" + what + ")");
    }
  }

  /** What an earlier cluster left in {@code dir}: its etcd, secrets or a node's data directory. */
  static List<String> leftovers(Path dir) {
    List<String> out = new ArrayList<>();
    for (String name : List.of("etcd", "secrets")) {
      if (Files.exists(dir.resolve(name))) {
        out.add(name + "/");
      }
    }
    for (int i = 1; i <= 9; i++) {
      Path data = dir.resolve("node" + i).resolve("data");
      if (Files.exists(data)) {
        out.add(dir.relativize(data) + "/");
      }
    }
    return out;
  }

  private static void requireBinaries(String binDir) {
    Path bin = Path.of(binDir);
    for (String prog : List.of("initdb", "pg_ctl", "pg_basebackup", "pg_rewind", "pg_controldata", "postgres")) {
      if (!Files.isExecutable(bin.resolve(prog))) {
        throw new IllegalStateException(bin.resolve(prog) + " not found: install PostgreSQL 15 "
            + "(apt-get install postgresql-15) or pass --bin-dir");
      }
    }
  }

  /** The jar the agents run, their JVM options with its class-data sharing archive, and the archive's making. */
  private record Installed(Path jar, List<String> jvmArgs, Duration archiveTime) {}

  private static Installed installJar(Path dir, Options o) throws IOException {
    Path jar = dir.resolve("pgwarden.jar");
    // Copied so that the unprivileged agents can read it wherever the build lives.
    Files.copy(o.jar(), jar, StandardCopyOption.REPLACE_EXISTING);
    List<String> jvmArgs = o.jvmArgs();
    Duration archiveTime = Duration.ZERO;
    if (o.classDataSharing()) {
      Path archive = dir.resolve("pgwarden.jsa");
      long archiveStart = System.nanoTime();
      try {
        ClassDataSharing.dump(jar, archive);
        jvmArgs = new ArrayList<>(jvmArgs);
        jvmArgs.add(ClassDataSharing.option(archive));
      } catch (ClassDataSharing.ShuttingDown e) {
        throw e; // Ctrl-C: no cluster is started, with or without an archive
      } catch (IOException e) {
        log.warn("the agents start without a class-data sharing archive: {}", e.toString());
      }
      archiveTime = Duration.ofNanos(System.nanoTime() - archiveStart);
    }
    return new Installed(jar, List.copyOf(jvmArgs), archiveTime);
  }

  /** Reads the state a previous {@code up} recorded. */
  public static LocalCluster load(Path dir) {
    Path f = dir.toAbsolutePath().resolve(STATE_FILE);
    if (!Files.exists(f)) {
      if (isStopped(dir)) {
        throw new IllegalStateException("the local cluster in " + dir.toAbsolutePath() + " is stopped; `pgwarden"
            + " local up --dir " + dir.toAbsolutePath() + "` starts it again");
      }
      throw new IllegalStateException("no local cluster in " + dir.toAbsolutePath() + " (no " + STATE_FILE + ")");
    }
    try {
      return new LocalCluster(dir.toAbsolutePath(), JSON.readValue(f.toFile(), State.class), null, Duration.ZERO);
    } catch (IOException e) {
      throw new UncheckedIOException(f + " is unreadable: " + e.getMessage(), e);
    }
  }

  public State state() {
    return state;
  }

  /** Once per install for operators, so benchmarks of a cluster's start leave it out. */
  public Duration archiveTime() {
    return archiveTime;
  }

  public Path dir() {
    return dir;
  }

  /** The etcd server, when this JVM started it (tests); empty after {@link #load}. */
  public Optional<EtcdServer> etcd() {
    return Optional.ofNullable(etcd);
  }

  public NodeState node(String name) {
    return state.nodes().stream().filter(n -> n.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no node named '" + name + "'; nodes are "
            + state.nodes().stream().map(NodeState::name).collect(Collectors.joining(", "))));
  }

  public List<String> nodeNames() {
    return state.nodes().stream().map(NodeState::name).toList();
  }

  /** Starts the node's agent in its own session, as {@code postgres} when we are root. */
  public synchronized void startAgent(String name) {
    NodeState n = node(name);
    if (Processes.isAlive(n.agentPid())) {
      throw new IllegalStateException(name + "'s agent already runs (pid " + n.agentPid() + ")");
    }
    List<String> cmd = new ArrayList<>();
    // Its own session: a Ctrl-C in the terminal that ran `local up` must not reach the agents.
    cmd.add("setsid");
    if (state.runAsPostgres()) {
      cmd.addAll(List.of("setpriv", "--reuid=" + RUN_AS, "--regid=" + RUN_AS, "--init-groups", "--"));
    }
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(state.jvmArgs());
    cmd.addAll(List.of("-jar", state.jar(), "agent", "--config", n.configFile()));
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(Path.of(n.logFile()).toFile()))
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      pb.environment().put("HOME", dir.toString());
      AgentJvm.ENVIRONMENT.forEach(pb.environment()::putIfAbsent);
      Process p = pb.start();
      replaceNode(n.withPid(p.pid()));
      log.info("started agent {} (pid {}), log {}", name, p.pid(), n.logFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start agent " + name + ": " + e.getMessage(), e);
    }
  }

  /** SIGTERM: the agent stops PostgreSQL and releases its keys. */
  public void stopAgent(String name) {
    long pid = node(name).agentPid();
    if (Processes.signal(pid, "TERM") && !Processes.awaitExit(pid, 60)) {
      Processes.signal(pid, "KILL");
      Processes.awaitExit(pid, 10);
    }
  }

  public void killAgent(String name) {
    long pid = node(name).agentPid();
    Processes.signal(pid, "KILL");
    Processes.awaitExit(pid, 10);
  }

  public Optional<Long> postmasterPid(String name) {
    return Processes.postmasterPid(Path.of(node(name).dataDir()));
  }

  public void killPostmaster(String name) {
    postmasterPid(name).ifPresent(pid -> {
      Processes.signal(pid, "KILL");
      Processes.awaitExit(pid, 10);
    });
  }

  /** Power off: SIGKILL the agent and the postmaster together, as a pulled plug would. */
  public void powerOff(String name) {
    Optional<Long> pm = postmasterPid(name);
    long agent = node(name).agentPid();
    Processes.signal(agent, "KILL");
    pm.ifPresent(pid -> Processes.signal(pid, "KILL"));
    Processes.awaitExit(agent, 10);
    pm.ifPresent(pid -> Processes.awaitExit(pid, 10));
    // Orphaned backends die with the postmaster's death pipe; wait until the port is free of it.
  }

  public void freezeAgent(String name) {
    Processes.signal(node(name).agentPid(), "STOP");
  }

  public void thawAgent(String name) {
    Processes.signal(node(name).agentPid(), "CONT");
  }

  public boolean agentAlive(String name) {
    return Processes.isAlive(node(name).agentPid());
  }

  /** Stops every agent (they stop PostgreSQL), then anything left, then etcd. Data stays. */
  public void down() {
    for (NodeState n : state.nodes()) {
      if (Processes.isAlive(n.agentPid())) {
        Processes.signal(n.agentPid(), "CONT");
        Processes.signal(n.agentPid(), "TERM");
      }
    }
    for (NodeState n : state.nodes()) {
      if (!Processes.awaitExit(n.agentPid(), 60)) {
        Processes.signal(n.agentPid(), "KILL");
      }
      postmasterPid(n.name()).ifPresent(pid -> {
        Processes.signal(pid, "CONT");
        // SIGQUIT is PostgreSQL's immediate shutdown: it also ends the backends.
        Processes.signal(pid, "QUIT");
        if (!Processes.awaitExit(pid, 30)) {
          Processes.signal(pid, "KILL");
        }
      });
    }
    if (etcd != null) {
      etcd.close();
    } else {
      for (long pid : state.etcdPids()) {
        Processes.signal(pid, "TERM");
        if (!Processes.awaitExit(pid, 15)) {
          Processes.signal(pid, "KILL");
        }
      }
    }
    // Kept as the stopped cluster's record, which `up` starts again; without processes to find.
    List<NodeState> stopped = state.nodes().stream().map(n -> n.withPid(0)).toList();
    state = state.with(stopped, List.of(), state.jvmArgs(), state.jar());
    try {
      write(STOPPED_FILE);
      Files.deleteIfExists(dir.resolve(STATE_FILE));
    } catch (IOException e) {
      log.warn("could not record the stopped cluster in {}: {}", dir.resolve(STOPPED_FILE), e.getMessage());
    }
  }

  public String superuserPassword() {
    try {
      return Files.readString(Path.of(state.superuserPasswordFile())).trim();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + state.superuserPasswordFile(), e);
    }
  }

  /** The REST API password of the local nodes; null for a cluster started before they had one. */
  public String apiPassword() {
    if (state.apiPasswordFile() == null) {
      return null;
    }
    try {
      return Files.readString(Path.of(state.apiPasswordFile())).trim();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + state.apiPasswordFile(), e);
    }
  }

  /** libpq multi-host string that finds the writable node, as the seed's client did. */
  public String connectionString() {
    String hosts = state.nodes().stream().map(n -> "127.0.0.1").collect(Collectors.joining(","));
    String ports = state.nodes().stream().map(n -> Integer.toString(n.pgPort())).collect(Collectors.joining(","));
    return "host=" + hosts + " port=" + ports + " user=" + state.superuser() + " dbname=postgres target_session_attrs=read-write";
  }

  /** The same for pgjdbc. */
  public String jdbcUrl() {
    String hosts = state.nodes().stream().map(n -> "127.0.0.1:" + n.pgPort()).collect(Collectors.joining(","));
    // pgjdbc remembers which host was primary for hostRecheckSeconds (10 by default); after a change
    // of primary that memory alone would keep a client away from the new one.
    return "jdbc:postgresql://" + hosts + "/postgres?targetServerType=primary&hostRecheckSeconds=1";
  }

  public String jdbcUrl(String node) {
    return "jdbc:postgresql://127.0.0.1:" + node(node).pgPort() + "/postgres";
  }

  public String etcdctlLeaderCommand() {
    return "ETCDCTL_API=3 etcdctl --endpoints=" + String.join(",", state.etcdEndpoints()) + " get "
        + state.namespace() + "/" + state.scope() + "/leader --print-value-only";
  }

  private void replaceNode(NodeState n) {
    List<NodeState> nodes = new ArrayList<>(state.nodes());
    nodes.replaceAll(x -> x.name().equals(n.name()) ? n : x);
    state = state.with(nodes, state.etcdPids(), state.jvmArgs(), state.jar());
    save();
  }

  private void save() {
    try {
      write(STATE_FILE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir.resolve(STATE_FILE), e);
    }
  }

  /** The state, whole or not at all, as {@code name} in the folder. */
  private void write(String name) throws IOException {
    Path tmp = dir.resolve(name + ".tmp");
    Files.writeString(tmp, Json.writePretty(state));
    Files.move(tmp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void writeNodeConfig(State s, NodeState n, Options o, Path replPassword) throws IOException {
    Map<String, Object> cfg = new LinkedHashMap<>();
    cfg.put("scope", s.scope());
    cfg.put("name", n.name());
    cfg.put("namespace", s.namespace());
    cfg.put("etcd", Map.of("endpoints", s.etcdEndpoints()));
    cfg.put("api", Map.of("listen", "127.0.0.1:" + n.apiPort(),
        "auth", Map.of("username", s.apiUser(), "password_file", s.apiPasswordFile())));
    Map<String, Object> pg = new LinkedHashMap<>();
    pg.put("bin_dir", o.binDir());
    pg.put("data_dir", n.dataDir());
    pg.put("listen", "127.0.0.1:" + n.pgPort());
    pg.put("authentication", Map.of(
        "superuser", Map.of("username", s.superuser(), "password_file", s.superuserPasswordFile()),
        "replication", Map.of("username", "replicator", "password_file", replPassword.toString())));
    // Small enough that a handful of nodes fit on a laptop or a CI runner.
    pg.put("parameters", Map.of("shared_buffers", "32MB", "max_connections", "100"));
    cfg.put("postgresql", pg);
    if (!o.dynamic().isEmpty()) {
      cfg.put("bootstrap", o.dynamic());
    }
    // One level deep, so that e.g. {api: {tls: ...}} adds to the api section instead of replacing it.
    o.nodeConfig().apply(n.name()).forEach((k, v) -> {
      if (v instanceof Map<?, ?> extra && cfg.get(k) instanceof Map<?, ?> base) {
        Map<Object, Object> merged = new LinkedHashMap<>(base);
        merged.putAll(extra);
        cfg.put(k, merged);
      } else {
        cfg.put(k, v);
      }
    });
    Files.writeString(Path.of(n.configFile()), Json.YAML.writeValueAsString(cfg));
  }

  private static void writeSecret(Path f, String value) throws IOException {
    Files.writeString(f, value + "\n");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
  }

  private static String randomPassword() {
    SecureRandom r = new SecureRandom();
    String alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 24; i++) {
      b.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return b.toString();
  }

  public static boolean isRoot() {
    return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
  }

  /** The unprivileged agents must be able to walk down to {@code dir}. */
  private static void requireReachable(Path dir) throws IOException {
    for (Path p = dir.getParent(); p != null; p = p.getParent()) {
      String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
      if (perms.charAt(8) != 'x') {
        throw new IllegalStateException("the '" + RUN_AS + "' user cannot reach " + dir + " because " + p
            + " is not searchable by others (" + perms + "); choose a --dir under /tmp or /var/tmp");
      }
    }
  }

  private static void chownToRunAs(Path dir) {
    try {
      Process p = new ProcessBuilder(List.of("chown", "-R", RUN_AS + ":" + RUN_AS, dir.toString()))
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("chown -R " + RUN_AS + " " + dir + " failed: " + out.strip()
            + " (does the '" + RUN_AS + "' OS user exist? apt-get install postgresql-15 creates it)");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run chown", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running chown", e);
    }
  }
}
