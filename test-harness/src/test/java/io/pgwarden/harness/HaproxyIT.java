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
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A real HAProxy, configured the way Patroni users configure it (health check {@code GET /primary}
 * on each agent's REST port), routes writes to whichever node pgwarden made primary.
 */
class HaproxyIT {
  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(3);

  private static final Path HAPROXY = Path.of("/usr/sbin/haproxy");
  private static Process haproxy;
  private static int port;
  private static Path dir;

  @BeforeAll
  static void startHaproxy() throws Exception {
    TestCluster c = CLUSTER.get();
    c.awaitHealthy("one primary and two streaming replicas", Duration.ofMinutes(3));
    port = FreePorts.take(1).get(0);
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
    for (String n : c.nodes()) {
      LocalCluster.NodeState node = c.local().node(n);
      cfg.append("    server ").append(n).append(" 127.0.0.1:").append(node.pgPort())
          .append(" maxconn 100 check port ").append(node.apiPort()).append('\n');
    }
    Path file = dir.resolve("haproxy.cfg");
    Files.writeString(file, cfg);
    haproxy = new ProcessBuilder(HAPROXY.toString(), "-f", file.toString(), "-db")
        .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
    System.out.println("haproxy (pid " + haproxy.pid() + ") on 127.0.0.1:" + port + " with\n" + cfg);
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

  @Test
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
