package io.pgwarden.harness.docker;

import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.ContainerNetwork;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.DockerImageName;

/**
 * etcd plus three pgwarden containers on a private network, built from this checkout's images.
 *
 * <p>Every node is also attached to docker's default bridge, where nothing resolves its name: the
 * test reaches each node's PostgreSQL there from the host, so a node cut off from the private network
 * (its peers and etcd) can still be sampled. Faults: {@link #disconnect}, {@link #cut} (iptables in the
 * node's network namespace, run from the host with nsenter), {@link #pause}.
 */
final class DockerCluster implements AutoCloseable {
  /** Label on every container and network of these tests; leftovers of a killed run are removed by it. */
  static final String LABEL = "io.pgwarden.test";
  static final String LABEL_VALUE = "docker-partition";
  static final String SCOPE = "tc";
  static final int TTL_SECONDS = 10;
  static final String PASSWORD = "tc-superuser";
  static final List<String> NODES = List.of("pg1", "pg2", "pg3");

  private final DockerClient docker = DockerClientFactory.instance().client();
  private final Network network;
  private final GenericContainer<?> etcd;
  private final Map<String, GenericContainer<?>> nodes = new LinkedHashMap<>();
  private final Map<String, String> probeAddress = new LinkedHashMap<>();

  private DockerCluster() {
    network = Network.builder()
        .createNetworkCmdModifier(cmd -> cmd.withLabels(Map.of(LABEL, LABEL_VALUE))).build();
    etcd = new GenericContainer<>(DockerImageName.parse("pgwarden-etcd:dev"))
        .withNetwork(network).withNetworkAliases("etcd").withLabel(LABEL, LABEL_VALUE)
        .withEnv(Map.of(
            "ETCD_NAME", "etcd",
            "ETCD_LISTEN_CLIENT_URLS", "http://0.0.0.0:2379",
            "ETCD_ADVERTISE_CLIENT_URLS", "http://etcd:2379",
            "ETCD_LISTEN_PEER_URLS", "http://0.0.0.0:2380",
            "ETCD_INITIAL_ADVERTISE_PEER_URLS", "http://etcd:2380",
            "ETCD_INITIAL_CLUSTER", "etcd=http://etcd:2380"))
        .waitingFor(Wait.forLogMessage(".*ready to serve client requests.*", 1)
            .withStartupTimeout(Duration.ofSeconds(60)));
    for (String name : NODES) {
      nodes.put(name, new GenericContainer<>(DockerImageName.parse("pgwarden:dev"))
          .withNetwork(network).withNetworkAliases(name).withLabel(LABEL, LABEL_VALUE)
          .withCreateContainerCmdModifier(cmd -> cmd.withHostName(name))
          .withSharedMemorySize(128L * 1024 * 1024)
          .withEnv("PGWARDEN_SUPERUSER_PASSWORD", PASSWORD)
          .withEnv("PGWARDEN_REPLICATION_PASSWORD", "tc-replication")
          .withCopyToContainer(Transferable.of(config(name)), "/etc/pgwarden/pgwarden.yaml"));
    }
  }

  /** Builds the images from this checkout (cached layers: seconds), then starts etcd and the nodes. */
  static DockerCluster start(Path repo) {
    removeLeftovers();
    run(Duration.ofMinutes(15), repo.resolve("deploy/docker/build-images.sh").toString());
    DockerCluster c = new DockerCluster();
    c.etcd.start();
    for (Map.Entry<String, GenericContainer<?>> e : c.nodes.entrySet()) {
      e.getValue().start();
      String id = e.getValue().getContainerId();
      c.docker.connectToNetworkCmd().withNetworkId("bridge").withContainerId(id).exec();
      c.probeAddress.put(e.getKey(),
          c.inspect(e.getKey()).getNetworkSettings().getNetworks().get("bridge").getIpAddress());
    }
    return c;
  }

  static String config(String name) {
    return """
        scope: %1$s
        name: %2$s
        etcd: { endpoints: [http://etcd:2379] }
        api: { listen: 0.0.0.0:8008, connect_address: %2$s:8008 }
        postgresql:
          bin_dir: /usr/lib/postgresql/15/bin
          data_dir: /var/lib/pgwarden/%2$s
          listen: 0.0.0.0:5432
          connect_address: %2$s:5432
          authentication:
            superuser: { username: postgres, password_env: PGWARDEN_SUPERUSER_PASSWORD }
            replication: { username: replicator, password_env: PGWARDEN_REPLICATION_PASSWORD }
          parameters:
            max_connections: 40
            shared_buffers: 32MB
            jit: "off"
            # A cut leaves TCP connections hanging rather than reset; notice it within seconds, not a minute.
            wal_sender_timeout: 5s
            wal_receiver_timeout: 5s
        bootstrap: { ttl: %3$d, loop_wait: 2, retry_timeout: 4, synchronous_mode: "on" }
        """.formatted(SCOPE, name, TTL_SECONDS);
  }

  /** Containers and networks of an earlier run that died before its cleanup (Ryuk is disabled here). */
  static void removeLeftovers() {
    DockerClient docker = DockerClientFactory.instance().client();
    List<Container> left = docker.listContainersCmd().withShowAll(true)
        .withLabelFilter(Map.of(LABEL, LABEL_VALUE, "org.testcontainers", "true")).exec();
    for (Container c : left) {
      docker.removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec();
    }
    docker.listNetworksCmd().withFilter("label", List.of(LABEL + "=" + LABEL_VALUE)).exec()
        .forEach(n -> docker.removeNetworkCmd(n.getId()).exec());
  }

  List<String> nodes() {
    return NODES;
  }

  InspectContainerResponse inspect(String node) {
    return docker.inspectContainerCmd(nodes.get(node).getContainerId()).exec();
  }

  /** The node's address on the private network, or empty while it is disconnected. */
  Optional<String> clusterAddress(String node) {
    return inspect(node).getNetworkSettings().getNetworks().values().stream()
        .filter(n -> network.getId().equals(n.getNetworkID())).map(ContainerNetwork::getIpAddress).findFirst();
  }

  Connection connect(String node) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    p.setProperty("password", PASSWORD);
    p.setProperty("connectTimeout", "2");
    p.setProperty("socketTimeout", "3");
    return DriverManager.getConnection("jdbc:postgresql://" + probeAddress.get(node) + ":5432/postgres", p);
  }

  /** One value, or empty when the node does not answer (down, cut, paused, still starting). */
  Optional<String> query(String node, String sql) {
    try (Connection c = connect(node); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
    } catch (SQLException e) {
      return Optional.empty();
    }
  }

  /** PostgreSQL on the node runs and is not in recovery (a primary, whether or not it can commit). */
  boolean runsAsPrimary(String node) {
    return query(node, "SELECT NOT pg_is_in_recovery()").map("t"::equals).orElse(false);
  }

  /** The holder of the leader key, read in the etcd container. */
  Optional<String> leader() {
    try {
      var r = etcd.execInContainer("etcdctl", "--endpoints=127.0.0.1:2379", "--command-timeout=3s",
          "get", "/pgwarden/" + SCOPE + "/leader", "--print-value-only");
      String v = r.getStdout().trim();
      return r.getExitCode() == 0 && !v.isEmpty() ? Optional.of(v) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /**
   * One primary holding the key, the two others streaming from it (one as its synchronous standby), and {@code rows} (if given) on
   * every node: the state every scenario starts from and must come back to.
   */
  boolean converged(String table, long rows) {
    Optional<String> leader = leader();
    if (leader.isEmpty() || !runsAsPrimary(leader.get())) {
      return false;
    }
    for (String n : NODES) {
      if (!n.equals(leader.get()) && !query(n, "SELECT pg_is_in_recovery()").map("t"::equals).orElse(false)) {
        return false;
      }
      if (rows >= 0 && !query(n, "SELECT count(*) FROM " + table).map(v -> Long.parseLong(v) >= rows).orElse(false)) {
        return false;
      }
    }
    // In synchronous mode (the default) a failover needs a recorded synchronous standby; PostgreSQL
    // names one only after the lock holder recorded it, so a 'sync' row proves both.
    return query(leader.get(), "SELECT count(*) FILTER (WHERE state = 'streaming') || '/'"
        + " || count(*) FILTER (WHERE sync_state = 'sync') FROM pg_stat_replication")
        .map("2/1"::equals).orElse(false);
  }

  void awaitConverged(String why, Duration atMost, String table, long rows) {
    await(why).atMost(atMost).pollInterval(Duration.ofMillis(500)).until(() -> converged(table, rows));
  }

  // ---- faults ------------------------------------------------------------------------------------

  /** Cuts the node off the private network: from etcd and both peers; the host still reaches it. */
  void disconnect(String node) {
    docker.disconnectFromNetworkCmd().withNetworkId(network.getId())
        .withContainerId(nodes.get(node).getContainerId()).withForce(true).exec();
  }

  /** Reattaches the node under its name, so its peers find it again through docker's DNS. */
  void reconnect(String node) {
    docker.connectToNetworkCmd().withNetworkId(network.getId()).withContainerId(nodes.get(node).getContainerId())
        .withContainerNetwork(new ContainerNetwork().withAliases(node)).exec();
  }

  /** Drops every packet between the node and the given peers ("etcd" or node names), in both directions. */
  void cut(String node, List<String> peers) {
    long pid = inspect(node).getState().getPidLong();
    for (String peer : peers) {
      String ip = peer.equals("etcd") ? etcdAddress() : clusterAddress(peer).orElseThrow();
      run(Duration.ofSeconds(20), "nsenter", "-t", Long.toString(pid), "-n", "iptables", "-w", "5",
          "-I", "INPUT", "-s", ip, "-j", "DROP");
      run(Duration.ofSeconds(20), "nsenter", "-t", Long.toString(pid), "-n", "iptables", "-w", "5",
          "-I", "OUTPUT", "-d", ip, "-j", "DROP");
    }
  }

  /** Removes every rule {@link #cut} added in the node's namespace. */
  void heal(String node) {
    long pid = inspect(node).getState().getPidLong();
    for (String chain : List.of("INPUT", "OUTPUT")) {
      run(Duration.ofSeconds(20), "nsenter", "-t", Long.toString(pid), "-n", "iptables", "-w", "5", "-F", chain);
    }
  }

  void pause(String node) {
    docker.pauseContainerCmd(nodes.get(node).getContainerId()).exec();
  }

  void unpause(String node) {
    docker.unpauseContainerCmd(nodes.get(node).getContainerId()).exec();
  }

  private String etcdAddress() {
    return docker.inspectContainerCmd(etcd.getContainerId()).exec().getNetworkSettings().getNetworks().values()
        .stream().filter(n -> network.getId().equals(n.getNetworkID())).map(ContainerNetwork::getIpAddress)
        .findFirst().orElseThrow();
  }

  /** The last lines of the node's log (the agent's decisions), for failure messages. */
  String logTail(String node, int lines) {
    String[] all = nodes.get(node).getLogs().split("\n");
    return String.join("\n", List.of(all).subList(Math.max(0, all.length - lines), all.length));
  }

  /** Runs a host command, bounded in time; its output (in a file, so it never blocks on a pipe) is printed. */
  static void run(Duration limit, String... command) {
    String cmd = String.join(" ", command);
    try {
      Path log = Files.createTempFile("pgwarden-docker-cmd-", ".log");
      try {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
          throw new IllegalStateException(cmd + " did not finish within " + limit + ":\n" + Files.readString(log));
        }
        String out = Files.readString(log);
        System.out.print(out);
        if (p.exitValue() != 0) {
          throw new IllegalStateException(cmd + " exited " + p.exitValue() + ":\n" + out);
        }
      } finally {
        Files.deleteIfExists(log);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + cmd, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + cmd, e);
    }
  }

  @Override
  public void close() {
    List<RuntimeException> errors = new ArrayList<>();
    for (GenericContainer<?> c : nodes.values()) {
      try {
        if (c.getContainerId() != null && Boolean.TRUE.equals(docker.inspectContainerCmd(c.getContainerId()).exec()
            .getState().getPaused())) {
          docker.unpauseContainerCmd(c.getContainerId()).exec();
        }
        c.stop();
      } catch (RuntimeException e) {
        errors.add(e);
      }
    }
    etcd.stop();
    network.close();
    removeLeftovers();
    if (!errors.isEmpty()) {
      throw errors.get(0);
    }
  }
}
