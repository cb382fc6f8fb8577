package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.harness.cluster.TestCluster;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The agents' superuser password no longer works (changed in PostgreSQL, not in their config), and a
 * replica's agent starts again: an agent that cannot log in to a standby leaves it running — its pg_control says it takes no writes — rather than
 * stop it and start it again every few seconds; the leader keeps the lock. Fixed, the cluster is healthy.
 */
class WrongSuperuserPasswordIT {
  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(2);

  @Test
  void aStandbyTheAgentCannotLogInToIsLeftRunning() throws Exception {
    TestCluster c = CLUSTER.get();
    String primary = c.awaitHealthy();
    String replica = c.otherThan(primary);
    long replicaPid = c.local().postmasterPid(replica).orElseThrow();
    String password = c.local().superuserPassword();
    String changed = password + "-changed";
    c.execute(primary, "ALTER ROLE postgres PASSWORD '" + changed + "'");
    // Its open connection logged in before the change: a new agent has to log in again, and cannot.
    c.local().killAgent(replica);
    c.startAgent(replica);
    try {
      await(replica + " notices it cannot log in").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
          .until(() -> c.agentLog(replica).contains("its pg_control says it runs as a standby"));
      c.awaitMoreLoops(5);
      assertThat(c.local().postmasterPid(replica)).as("the standby's postmaster, never restarted").contains(replicaPid);
      assertThat(c.agentLog(replica)).doesNotContain("demoting: cannot read local PostgreSQL state");
      assertThat(c.viewNow().leader().holder()).isEqualTo(primary);
    } finally {
      Properties p = new Properties();
      p.setProperty("user", "postgres");
      p.setProperty("password", changed);
      try (Connection conn = DriverManager.getConnection(c.local().jdbcUrl(primary), p);
          Statement st = conn.createStatement()) {
        st.execute("ALTER ROLE postgres PASSWORD '" + password + "'");
      }
    }
    await("healthy again").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).until(c::healthy);
    assertThat(c.viewNow().leader().holder()).isEqualTo(primary);
  }
}
