package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.harness.cluster.TestCluster;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** restart, reload and reinit through the CLI and each agent's authenticated REST API. */
class OperatorRequestsIT {
  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(3);

  @Test
  void restartReloadAndReinitTakeEffect() throws Exception {
    TestCluster c = CLUSTER.get();
    String primary = c.awaitHealthy();
    String replica = c.otherThan(primary);
    c.executeOnPrimary("CREATE TABLE kept (id int)");
    c.executeOnPrimary("INSERT INTO kept VALUES (1)");

    long pid = c.local().postmasterPid(primary).orElseThrow();
    Cli.Run restart = Cli.run(c, "restart", primary, "--force");
    assertThat(restart.rc()).as(restart.out() + restart.err()).isZero();
    await(primary + " restarted").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
        .until(() -> c.local().postmasterPid(primary).map(p -> p != pid).orElse(false) && c.healthy());
    assertThat(c.leader()).as("a restart is not a failover").contains(primary);

    Cli.Run reload = Cli.run(c, "reload", replica);
    assertThat(reload.rc()).as(reload.out() + reload.err()).isZero();
    await("reloaded").atMost(Duration.ofSeconds(30)).until(() -> c.agentLog(replica).contains("reloaded PostgreSQL"));

    Cli.Run reinit = Cli.run(c, "reinit", replica, "--force");
    assertThat(reinit.rc()).as(reinit.out() + reinit.err()).isZero();
    await(replica + " cloned afresh").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
        .until(() -> !c.movedAsideDataDirs(replica).isEmpty() && c.healthy());
    assertThat(c.tryQuery(replica, "SELECT count(*) FROM kept").orElseThrow()).isEqualTo(List.of("1"));

    // Refused in the answer, with a non-zero exit, not accepted and then refused in the agent's log only.
    Cli.Run refused = Cli.run(c, "reinit", primary, "--force");
    assertThat(refused.rc()).as(refused.out() + refused.err()).isEqualTo(1);
    assertThat(refused.err()).contains(primary + " is the leader").contains("switch over first");
    assertThat(c.movedAsideDataDirs(primary)).isEmpty();
    assertThat(c.leader()).contains(primary);
  }
}
