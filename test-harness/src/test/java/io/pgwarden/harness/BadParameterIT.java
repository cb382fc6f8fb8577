package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.harness.cluster.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A PostgreSQL parameter in {@code /config} whose value PostgreSQL rejects on reload: one error line
 * naming it, shown in the member status and {@code list}, PostgreSQL keeps its value, no reload loop,
 * and a later restart does not fail on it.
 */
class BadParameterIT {
  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(2);

  private static final Duration CONVERGE = Duration.ofSeconds(60);

  @Test
  void aRejectedValueIsReportedOnceKeptOutAndClearedWhenFixed() throws Exception {
    TestCluster c = CLUSTER.get();
    String primary = c.awaitHealthy();
    String replica = c.otherThan(primary);

    assertThat(Cli.run(c, "set-config", "parameters.work_mem=7MB").rc()).isZero();
    for (String n : c.nodes()) {
      await(n + " has work_mem 7MB").atMost(CONVERGE).pollInterval(Duration.ofMillis(300))
          .until(() -> c.tryQuery(n, "SHOW work_mem").orElse(List.of()).equals(List.of("7MB")));
    }

    // A session parameter with a bad value, and a restart-only one with a bad value.
    Cli.Run set = Cli.run(c, "set-config", "parameters.work_mem=lots", "parameters.max_files_per_process=many");
    assertThat(set.rc()).as(set.out() + set.err()).isZero();
    for (String n : c.nodes()) {
      await(n + " reports both").atMost(CONVERGE).pollInterval(Duration.ofMillis(300))
          .until(() -> errors(c, n).keySet().containsAll(List.of("work_mem", "max_files_per_process")));
    }
    Map<String, String> errors = errors(c, primary);
    assertThat(errors.get("work_mem")).contains("'lots'").contains("invalid value for parameter \"work_mem\"");
    assertThat(errors.get("max_files_per_process")).contains("'many'").contains("integer");
    assertThat(Cli.run(c, "list").out())
        .contains(primary + ": parameter work_mem = 'lots': invalid value for parameter \"work_mem\"")
        .contains(replica + ": parameter max_files_per_process = 'many'");
    assertThat(Cli.run(c, "list", "--json").out()).contains("\"parameter_errors\"");
    // PostgreSQL keeps the value it had; the rejected one is not left in the file for a later start.
    for (String n : c.nodes()) {
      assertThat(c.tryQuery(n, "SHOW work_mem").orElseThrow()).isEqualTo(List.of("7MB"));
      String conf = Files.readString(Path.of(c.local().node(n).dataDir(), "pgwarden.conf"));
      assertThat(conf).doesNotContain("'lots'").doesNotContain("'many'").contains("work_mem = '7MB'");
    }

    // Several loops later: still one error line per parameter and no reload loop; the agents run on.
    int reloads = c.agentLogCount(primary, "reloading: dynamic parameters");
    c.awaitMoreLoops(5);
    for (String n : c.nodes()) {
      String log = c.agentLog(n);
      assertThat(TestCluster.occurrences(log, "postgresql parameter work_mem = 'lots' rejected by PostgreSQL")).as(n).isEqualTo(1);
      assertThat(TestCluster.occurrences(log, "postgresql parameter max_files_per_process = 'many' rejected by PostgreSQL")).as(n)
          .isEqualTo(1);
    }
    assertThat(c.agentLogCount(primary, "reloading: dynamic parameters")).isEqualTo(reloads);
    assertThat(c.healthy()).isTrue();

    // A restart does not fail on the rejected values.
    int starts = c.agentLogCount(replica, "PostgreSQL started as REPLICA");
    Cli.Run restart = Cli.run(c, "restart", replica, "--force");
    assertThat(restart.rc()).as(restart.out() + restart.err()).isZero();
    await(replica + " restarted and streams").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
        .until(() -> c.healthy() && c.agentLogCount(replica, "PostgreSQL started as REPLICA") > starts);
    assertThat(c.tryQuery(replica, "SHOW work_mem").orElseThrow()).isEqualTo(List.of("7MB"));

    // A fresh agent knows nothing of the rejections and PostgreSQL would refuse to start on them:
    // checked before the start, left out, reported again.
    c.local().stopAgent(replica);
    c.startAgent(replica);
    await(replica + " runs again despite the bad values").atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500)).until(() -> c.healthy()
            && errors(c, replica).keySet().containsAll(List.of("work_mem", "max_files_per_process")));
    String replicaLog = c.agentLog(replica);
    assertThat(TestCluster.occurrences(replicaLog, "postgresql parameter work_mem = 'lots' rejected by PostgreSQL")).isEqualTo(2);
    assertThat(errors(c, replica).get("work_mem")).contains("invalid value for parameter \"work_mem\"");

    // Fixed by the operator: applied, and the errors are gone.
    assertThat(Cli.run(c, "set-config", "parameters.work_mem=8MB", "parameters.max_files_per_process=null").rc())
        .isZero();
    for (String n : c.nodes()) {
      await(n + " applied the fix").atMost(CONVERGE).pollInterval(Duration.ofMillis(300))
          .until(() -> c.tryQuery(n, "SHOW work_mem").orElse(List.of()).equals(List.of("8MB"))
              && errors(c, n).isEmpty());
    }
    assertThat(Cli.run(c, "list").out()).doesNotContain("parameter work_mem");
  }

  /**
   * A value PostgreSQL accepts in its files but cannot start with (a library that does not exist, which
   * {@code postgres -C} does not load): the failed start says what the server's log says, is tried again
   * every loop_wait and logged once, not with a stack trace a second; fixed, the replica starts again.
   */
  @Test
  void aStartThatFailsSaysWhyOnceAndIsTriedAgainUntilFixed() throws Exception {
    TestCluster c = CLUSTER.get();
    String primary = c.awaitHealthy();
    String replica = c.otherThan(primary);
    String lib = "pgwarden_no_such_library";
    assertThat(Cli.run(c, "set-config", "parameters.shared_preload_libraries=" + lib).rc()).isZero();
    await(replica + " has the setting in its files").atMost(CONVERGE).pollInterval(Duration.ofMillis(300))
        .until(() -> Files.readString(Path.of(c.local().node(replica).dataDir(), "pgwarden.conf")).contains(lib));
    int failedBefore = c.agentLogCount(replica, "action failed, will look again");
    Cli.Run restart = Cli.run(c, "restart", replica, "--force");
    assertThat(restart.rc()).as(restart.out() + restart.err()).isZero();
    try {
      String why = "the server's log " + Path.of(c.local().node(replica).dataDir()).getParent();
      await(replica + " says why it does not start").atMost(CONVERGE).pollInterval(Duration.ofMillis(500))
          .until(() -> c.agentLog(replica).contains("could not access file \"" + lib + "\""));
      assertThat(c.agentLog(replica)).contains(why);
      c.awaitMoreLoops(5);
      assertThat(c.agentLogCount(replica, "action failed, will look again") - failedBefore)
          .as("the same failure, logged with its stack trace once").isEqualTo(1);
      assertThat(c.agentLogCount(replica, "action failed again")).as("then once a minute at most").isLessThanOrEqualTo(1);
      assertThat(c.viewNow().leader().holder()).isEqualTo(primary);
    } finally {
      assertThat(Cli.run(c, "set-config", "parameters.shared_preload_libraries=null").rc()).isZero();
    }
    await(replica + " starts again once fixed").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
        .until(c::healthy);
  }

  private static Map<String, String> errors(TestCluster c, String node) {
    return c.member(node).map(MemberStatus::parameterErrors).orElse(null) == null ? Map.of()
        : c.member(node).orElseThrow().parameterErrors();
  }
}
