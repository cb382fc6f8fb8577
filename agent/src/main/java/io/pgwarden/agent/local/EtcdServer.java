package io.pgwarden.agent.local;

import io.pgwarden.agent.port.PghaException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real etcd processes on loopback, for {@code pgwarden local} and for integration tests. Each member
 * keeps its client and peer ports and its data for its whole life, so {@link #stop()} followed by
 * {@link #start()} brings back the same cluster at the same endpoints.
 */
public final class EtcdServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EtcdServer.class);

  static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(30);
  static final Duration STOP_GRACE = Duration.ofSeconds(10);
  private static final Path DEBIAN_BINARY = Path.of("/usr/bin/etcd");

  private final Path binary;
  private final Path dataDir;
  private final List<Member> members;
  private final String initialCluster;
  private final String clusterToken;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).proxy(HttpClient.Builder.NO_PROXY).build();

  private EtcdServer(Path binary, Path dataDir, List<Member> members) {
    this.binary = binary;
    this.dataDir = dataDir;
    this.members = members;
    this.initialCluster =
        members.stream().map(m -> m.name + "=" + m.peerUrl()).collect(Collectors.joining(","));
    this.clusterToken = "pgwarden-" + UUID.randomUUID();
  }

  /** Starts {@code members} (1 or 3) etcd members under {@code dataDir} and waits until all are healthy. */
  public static EtcdServer start(Path dataDir, int members) {
    if (members != 1 && members != 3) {
      throw new IllegalArgumentException("members must be 1 or 3, not " + members);
    }
    return start(dataDir, FreePorts.take(2 * members));
  }

  /**
   * Starts the members again on the ports they had ({@link #ports()}), over the data they left under
   * {@code dataDir}: the members of a multi-member etcd know each other by the peer URLs they were
   * made with.
   */
  public static EtcdServer start(Path dataDir, List<Integer> clientAndPeerPorts) {
    int members = clientAndPeerPorts.size() / 2;
    if ((members != 1 && members != 3) || clientAndPeerPorts.size() % 2 != 0) {
      throw new IllegalArgumentException("a client and a peer port for each of 1 or 3 members, not "
          + clientAndPeerPorts);
    }
    Path binary = findBinary();
    try {
      Files.createDirectories(dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create etcd data directory " + dataDir, e);
    }
    int[] ports = clientAndPeerPorts.stream().mapToInt(Integer::intValue).toArray();
    List<Member> list = new ArrayList<>();
    for (int i = 0; i < members; i++) {
      String name = "etcd" + i;
      list.add(new Member(name, ports[2 * i], ports[2 * i + 1], dataDir.resolve(name + ".etcd"),
          dataDir.resolve(name + ".log")));
    }
    EtcdServer server = new EtcdServer(binary, dataDir, List.copyOf(list));
    try {
      server.start();
    } catch (RuntimeException e) {
      server.stop();
      throw e;
    }
    return server;
  }

  public List<String> endpoints() {
    return members.stream().map(Member::clientUrl).collect(Collectors.toUnmodifiableList());
  }

  /** Each member's client port, then its peer port, in member order: what {@link #start(Path, List)} takes. */
  public List<Integer> ports() {
    List<Integer> out = new ArrayList<>();
    for (Member m : members) {
      out.add(m.clientPort);
      out.add(m.peerPort);
    }
    return List.copyOf(out);
  }

  public String endpointsCsv() {
    return String.join(",", endpoints());
  }

  public Path dataDir() {
    return dataDir;
  }

  /** Process ids of the members that are running now. */
  public synchronized List<Long> pids() {
    return members.stream()
        .filter(m -> m.process != null && m.process.isAlive())
        .map(m -> m.process.pid())
        .collect(Collectors.toUnmodifiableList());
  }

  /**
   * (Re)starts every member that is not running, on its own ports and data, and waits until all
   * are healthy. Members are launched together because a multi-member cluster only reports healthy
   * once a quorum is up.
   */
  public synchronized void start() {
    List<Member> launched = new ArrayList<>();
    for (Member m : members) {
      if (m.process == null || !m.process.isAlive()) {
        launch(m);
        launched.add(m);
      }
    }
    for (Member m : launched) {
      awaitHealthy(m);
    }
  }

  /** Stops every member (SIGTERM, then SIGKILL after 10 s); data stays for {@link #start()}. */
  public synchronized void stop() {
    // Terminate all first, so a multi-member cluster goes down in parallel rather than in 3 x 10 s.
    for (Member m : members) {
      if (m.process != null) {
        m.process.destroy();
      }
    }
    for (Member m : members) {
      terminate(m);
    }
  }

  public synchronized void stopMember(int i) {
    Member m = member(i);
    if (m.process != null) {
      m.process.destroy();
      terminate(m);
    }
  }

  public synchronized void startMember(int i) {
    Member m = member(i);
    if (m.process == null || !m.process.isAlive()) {
      launch(m);
      awaitHealthy(m);
    }
  }

  @Override
  public void close() {
    stop();
  }

  private Member member(int i) {
    if (i < 0 || i >= members.size()) {
      throw new IllegalArgumentException("member index " + i + " out of 0.." + (members.size() - 1));
    }
    return members.get(i);
  }

  private void launch(Member m) {
    // etcd keeps its membership in the data dir; initial-cluster flags only matter on first boot,
    // but "existing" keeps a restarted member from ever trying to bootstrap a second cluster.
    boolean hasData = Files.isDirectory(m.memberDir.resolve("member"));
    List<String> cmd = List.of(
        binary.toString(),
        "--name", m.name,
        "--data-dir", m.memberDir.toString(),
        "--listen-client-urls", m.clientUrl(),
        "--advertise-client-urls", m.clientUrl(),
        "--listen-peer-urls", m.peerUrl(),
        "--initial-advertise-peer-urls", m.peerUrl(),
        "--initial-cluster", initialCluster,
        "--initial-cluster-token", clusterToken,
        "--initial-cluster-state", hasData ? "existing" : "new",
        "--logger", "zap",
        "--log-outputs", "stderr");
    ProcessBuilder pb = new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(m.logFile.toFile()));
    // etcd fatally rejects an ETCD_* variable that shadows a flag; an operator's shell may have some.
    // ETCD_UNSUPPORTED_ARCH shadows no flag and is what lets etcd 3.4 start on arm64 at all.
    Map<String, String> env = pb.environment();
    env.keySet().removeIf(k -> k.startsWith("ETCD_") && !k.equals("ETCD_UNSUPPORTED_ARCH"));
    try {
      m.process = pb.start();
    } catch (IOException e) {
      throw new PghaException("cannot start " + binary + " for member " + m.name + " (log " + m.logFile + ")", e);
    }
    log.info("started etcd member {} pid {} client {} peer {} ({} data)", m.name, m.process.pid(), m.clientUrl(),
        m.peerUrl(), hasData ? "existing" : "new");
  }

  private void awaitHealthy(Member m) {
    long deadline = System.nanoTime() + HEALTH_TIMEOUT.toNanos();
    URI health = URI.create(m.clientUrl() + "/health");
    String last = "no answer yet";
    while (System.nanoTime() - deadline < 0) {
      try {
        HttpResponse<String> r = http.send(
            HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(2)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200 && r.body().replace(" ", "").contains("\"health\":\"true\"")) {
          log.debug("etcd member {} healthy", m.name);
          return;
        }
        last = "HTTP " + r.statusCode() + " " + r.body().strip();
      } catch (IOException e) {
        last = e.toString();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new PghaException("interrupted while waiting for etcd member " + m.name, e);
      }
      try {
        // waitFor doubles as the poll pause and as early detection of an etcd that exited.
        if (m.process.waitFor(200, TimeUnit.MILLISECONDS)) {
          throw new PghaException("etcd member " + m.name + " exited with code " + m.process.exitValue()
              + " before becoming healthy; see " + m.logFile);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new PghaException("interrupted while waiting for etcd member " + m.name, e);
      }
    }
    throw new PghaException("etcd member " + m.name + " at " + m.clientUrl() + " not healthy after "
        + HEALTH_TIMEOUT.toSeconds() + " s (last: " + last + "); see " + m.logFile);
  }

  private static void terminate(Member m) {
    Process p = m.process;
    if (p == null) {
      return;
    }
    try {
      p.destroy();
      if (!p.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("etcd member {} pid {} ignored SIGTERM for {} s; killing it", m.name, p.pid(),
            STOP_GRACE.toSeconds());
        p.destroyForcibly();
        p.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    m.process = null;
    log.info("stopped etcd member {} pid {}", m.name, p.pid());
  }

  private static Path findBinary() {
    if (Files.isExecutable(DEBIAN_BINARY)) {
      return DEBIAN_BINARY;
    }
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(java.io.File.pathSeparator)) {
        Path p = Path.of(dir, "etcd");
        if (!dir.isEmpty() && Files.isExecutable(p)) {
          return p;
        }
      }
    }
    throw new PghaException("etcd binary not found at " + DEBIAN_BINARY + " or on PATH; install it with "
        + "'apt-get install etcd-server'");
  }

  private static final class Member {
    final String name;
    final int clientPort;
    final int peerPort;
    final Path memberDir;
    final Path logFile;
    Process process;

    Member(String name, int clientPort, int peerPort, Path memberDir, Path logFile) {
      this.name = name;
      this.clientPort = clientPort;
      this.peerPort = peerPort;
      this.memberDir = memberDir;
      this.logFile = logFile;
    }

    String clientUrl() {
      return "http://127.0.0.1:" + clientPort;
    }

    String peerUrl() {
      return "http://127.0.0.1:" + peerPort;
    }
  }

  @Override
  public String toString() {
    return "EtcdServer[" + endpointsCsv() + ", data " + dataDir + "]";
  }
}
