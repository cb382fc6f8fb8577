package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.agent.local.FreePorts;
import io.pgwarden.agent.local.LocalCluster;
import io.pgwarden.harness.cluster.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A real HAProxy, configured the way Patroni users configure it (health check {@code GET /primary}
 * on each agent's REST port), routes writes to whichever node pgwarden made primary, and reads by
 * {@code GET /replica?tag_datacenter=dc1} only to the replicas tagged so.
 */
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class HaproxyIT {
  /** node2 alone in dc2, so that the dc1 read pool is whichever of node1 and node3 is a replica. */
  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(3, TestCluster.TEST_TIMING,
      name -> java.util.Map.of("tags", java.util.Map.of("datacenter", name.equals("node2") ? "dc2" : "dc1")));

  private static final Path HAPROXY = Path.of("/usr/sbin/haproxy");
  private static Process haproxy;
  private static int port;
  private static int readPort;
  private static Path dir;

  @BeforeAll
  static void startHaproxy() throws Exception {
    TestCluster c = CLUSTER.get();
    c.awaitHealthy("one primary and two streaming replicas", Duration.ofMinutes(3));
    List<Integer> ports = FreePorts.take(2);
    port = ports.get(0);
    readPort = ports.get(1);
    dir = Files.createTempDirectory("pgwarden-haproxy-");
    StringBuilder cfg = new StringBuilder("""
        global
            maxconn 100

        defaults
            mode tcp
            log global
            retries 2
            timeout client 30m
            timeout connect 4s
            timeout server 30m
            timeout check 5s

        frontend postgres_primary
            bind 127.0.0.1:%d
            default_backend primary

        backend primary
            option httpchk GET /primary
            http-check expect status 200
            default-server inter 1s fall 2 rise 2 on-marked-down shutdown-sessions
        """.formatted(port));
    servers(cfg, c);
    cfg.append("""

        frontend postgres_reads_dc1
            bind 127.0.0.1:%d
            default_backend replicas_dc1

        backend replicas_dc1
            balance roundrobin
            option httpchk GET /replica?tag_datacenter=dc1
            http-check expect status 200
            default-server inter 1s fall 2 rise 2 on-marked-down shutdown-sessions
        """.formatted(readPort));
    servers(cfg, c);
    Path file = dir.resolve("haproxy.cfg");
    Files.writeString(file, cfg);
    haproxy = new ProcessBuilder(HAPROXY.toString(), "-f", file.toString(), "-db")
        .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
    System.out.println("haproxy (pid " + haproxy.pid() + ") on 127.0.0.1:" + port + " with\n" + cfg);
  }

  private static void servers(StringBuilder cfg, TestCluster c) {
    for (String n : c.nodes()) {
      LocalCluster.NodeState node = c.local().node(n);
      cfg.append("    server ").append(n).append(" 127.0.0.1:").append(node.pgPort())
          .append(" maxconn 100 check port ").append(node.apiPort()).append('\n');
    }
  }

  @AfterAll
  static void stopHaproxy() throws Exception {
    if (haproxy != null) {
      haproxy.destroy();
      if (!haproxy.waitFor(10, TimeUnit.SECONDS)) {
        haproxy.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      System.out.println("haproxy log:\n" + Files.readString(dir.resolve("haproxy.log")));
    }
  }

  private static Connection throughHaproxy() throws SQLException {
    return throughHaproxy(port);
  }

  private static Connection throughHaproxy(int port) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", CLUSTER.get().local().state().superuser());
    p.setProperty("password", CLUSTER.get().local().superuserPassword());
    p.setProperty("connectTimeout", "3");
    p.setProperty("socketTimeout", "5");
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
  }

  /** Writes one row through HAProxy and returns the PostgreSQL port that took it. */
  private static int write(int id) throws SQLException {
    try (Connection conn = throughHaproxy(); Statement st = conn.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS through_haproxy (id int PRIMARY KEY)");
      st.execute("INSERT INTO through_haproxy VALUES (" + id + ") ON CONFLICT DO NOTHING");
      try (ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  /** The PostgreSQL port a connection through HAProxy's dc1 read pool lands on, and whether it is in recovery. */
  private static String read() throws SQLException {
    try (Connection conn = throughHaproxy(readPort); Statement st = conn.createStatement();
        ResultSet rs = st.executeQuery("SELECT inet_server_port(), pg_is_in_recovery()")) {
      rs.next();
      return rs.getInt(1) + " " + rs.getBoolean(2);
    }
  }

  @Test
  @org.junit.jupiter.api.Order(1) // before the power-off below: it wants all three nodes
  void readsFilteredByATagReachOnlyTheReplicasTaggedSo() throws Exception {
    TestCluster c = CLUSTER.get();
    String leader = c.awaitHealthy("one primary and two streaming replicas", Duration.ofMinutes(3));
    if (leader.equals("node2")) {
      // The filter must have a replica to leave out: node2 replicates.
      Cli.Run sw = Cli.run(c, "switchover", "--to", "node1", "--force");
      assertThat(sw.rc()).as(sw.out() + sw.err()).isZero();
      await("node1 leads").atMost(Duration.ofSeconds(60)).until(() -> c.leader().orElse(""), "node1"::equals);
      leader = c.awaitHealthy("one primary and two streaming replicas", Duration.ofMinutes(3));
    }
    String primary = leader;
    List<String> dc1Replicas = c.nodes().stream().filter(n -> !n.equals("node2") && !n.equals(primary)).toList();
    java.util.Set<String> expected = new java.util.HashSet<>();
    for (String n : dc1Replicas) {
      expected.add(c.local().node(n).pgPort() + " true");
    }
    // HAProxy starts with every server up until its checks say otherwise (two failed ones a second apart here),
    // so the primary and node2 may take reads at first; wait for the checks to have spoken.
    await("six reads in a row through the dc1 pool on dc1 replicas").atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(500)).ignoreExceptions()
        .until(() -> {
          for (int i = 0; i < 6; i++) {
            if (!expected.contains(read())) {
              return false;
            }
          }
          return true;
        });
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < 6; i++) {
      seen.add(read());
    }
    assertThat(seen).as("every read lands on a dc1 replica (%s), never on node2 (dc2) or the primary %s",
        dc1Replicas, primary).isSubsetOf(expected);
  }

  @Test
  @org.junit.jupiter.api.Order(2)
  void writesThroughHaproxyReachTheNewPrimaryAfterThePrimaryIsPoweredOff() throws Exception {
    TestCluster c = CLUSTER.get();
    String first = c.leader().orElseThrow();
    int firstPort = await("a write through HAProxy").atMost(Duration.ofSeconds(30)).ignoreExceptions()
        .until(() -> write(1), p -> true);
    assertThat(firstPort).isEqualTo(c.local().node(first).pgPort());

    Instant off = Instant.now();
    c.powerOff(first);
    int newPort = await("a write through HAProxy after the primary was powered off")
        .atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
        .until(() -> write(2), p -> p != firstPort);
    System.out.println("haproxy: power-off to first write on the new primary took "
        + Duration.between(off, Instant.now()).toMillis() + " ms");

    String next = c.leader().orElseThrow();
    assertThat(next).isNotEqualTo(first);
    assertThat(newPort).isEqualTo(c.local().node(next).pgPort());
    try (Connection conn = throughHaproxy(); Statement st = conn.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM through_haproxy")) {
      rs.next();
      // Synchronous mode is on by default: the row acknowledged before the power-off survived.
      assertThat(rs.getInt(1)).isEqualTo(2);
    }
  }
}
