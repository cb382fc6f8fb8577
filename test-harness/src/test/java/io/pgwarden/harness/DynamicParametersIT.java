package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.harness.cluster.TestCluster;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * PostgreSQL parameters in {@code /config} reach every node: a reloadable one takes effect with a
 * reload; one that needs a restart is published as pending_restart, shown by list, and applied by
 * {@code pgwarden restart} of a member, then by {@code restart --pending} on every member still waiting.
 */
class DynamicParametersIT {
  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(2);

  private static final Duration CONVERGE = Duration.ofSeconds(30);

  @Test
  void parametersApplyWithReloadAndPendingRestartUntilRestarted() {
    TestCluster c = CLUSTER.get();
    String primary = c.awaitHealthy();
    String replica = c.otherThan(primary);

    Cli.Run set = Cli.run(c, "set-config", "parameters.work_mem=7MB");
    assertThat(set.rc()).as(set.out() + set.err()).isZero();
    for (String n : c.nodes()) {
      await(n + " reloaded work_mem").atMost(CONVERGE).pollInterval(Duration.ofMillis(300))
          .until(() -> c.tryQuery(n, "SHOW work_mem").orElse(List.of()).equals(List.of("7MB")));
    }
    assertThat(c.agentLog(primary)).contains("dynamic parameters changed: [work_mem]");

    set = Cli.run(c, "set-config", "parameters.max_files_per_process=900");
    assertThat(set.rc()).as(set.out() + set.err()).isZero();
    for (String n : c.nodes()) {
      await(n + " publishes pending_restart").atMost(CONVERGE).pollInterval(Duration.ofMillis(300))
          .until(() -> c.member(n).map(MemberStatus::restartPending).orElse(false));
    }
    Cli.Run list = Cli.run(c, "list");
    assertThat(list.out()).contains("Pending restart").contains("*");
    Cli.Run json = Cli.run(c, "list", "--json");
    assertThat(json.out()).contains("\"pending_restart\" : true");
    assertThat(c.tryQuery(replica, "SHOW max_files_per_process").orElseThrow()).isEqualTo(List.of("1000"));

    Cli.Run restart = Cli.run(c, "restart", replica, "--force");
    assertThat(restart.rc()).as(restart.out() + restart.err()).isZero();
    await(replica + " restarted with the new max_files_per_process").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> c.tryQuery(replica, "SHOW max_files_per_process").orElse(List.of()).equals(List.of("900")));
    await(replica + " no longer pending").atMost(CONVERGE).pollInterval(Duration.ofMillis(300))
        .until(() -> c.member(replica).map(m -> !m.restartPending() && m.isRunning()).orElse(false));
    assertThat(c.member(primary).orElseThrow().restartPending()).as("only the restarted node applied it").isTrue();
    assertThat(c.leader()).contains(primary);

    // The rest in one go: only the members still waiting for a restart, each awaited, the leader last.
    Cli.Run rolling = Cli.run(c, "restart", "--pending", "--force");
    assertThat(rolling.rc()).as(rolling.out() + rolling.err()).isZero();
    assertThat(rolling.out()).contains(primary + " restarted").doesNotContain(replica + " restarted")
        .contains("restarted " + primary);
    assertThat(c.tryQuery(primary, "SHOW max_files_per_process").orElseThrow()).isEqualTo(List.of("900"));
    assertThat(c.member(primary).orElseThrow().restartPending()).isFalse();
    assertThat(c.leader()).as("a restart is no failover").contains(primary);
    Cli.Run again = Cli.run(c, "restart", "--pending", "--force");
    assertThat(again.rc()).isZero();
    assertThat(again.out()).contains("no member has settings waiting for a restart");

    // A removed parameter goes back to the default with the next reload.
    assertThat(Cli.run(c, "set-config", "parameters.work_mem=null").rc()).isZero();
    await(replica + " back to the default work_mem").atMost(CONVERGE).pollInterval(Duration.ofMillis(300))
        .until(() -> c.tryQuery(replica, "SHOW work_mem").orElse(List.of()).equals(List.of("4MB")));
  }
}
