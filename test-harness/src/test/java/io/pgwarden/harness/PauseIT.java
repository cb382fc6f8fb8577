package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.harness.cluster.TestCluster;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Maintenance mode: agents keep PostgreSQL as it is and nobody fails over; resume restores it all. */
class PauseIT {
  private static final Duration TTL = Duration.ofSeconds(12);

  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(3);

  @Test
  void aPrimaryWhoseAgentRestartsDuringPauseIsNotFailedOver() throws Exception {
    TestCluster c = CLUSTER.get();
    String primary = c.awaitHealthy();
    long term = c.viewNow().topology().term();

    Cli.Run pause = Cli.run(c, "pause");
    assertThat(pause.rc()).as(pause.out() + pause.err()).isZero();
    await("every agent sees the pause").atMost(Duration.ofSeconds(30))
        .until(() -> c.nodes().stream().allMatch(n -> c.agentLog(n).contains("paused: no automatic action")));
    assertThat(Cli.run(c, "list").out()).contains("paused");

    c.killAgent(primary);
    // Its lease and key expire, yet nobody takes over and PostgreSQL keeps running as primary.
    await("no failover for twice the ttl").during(TTL.multipliedBy(2)).atMost(TTL.multipliedBy(3))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> c.nodes().stream().filter(n -> !n.equals(primary)).noneMatch(c::isWritable)
            && c.leader().map(primary::equals).orElse(true));
    assertThat(c.isWritable(primary)).as("the primary's PostgreSQL was left as it was").isTrue();

    c.startAgent(primary);
    await(primary + " takes its key again").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
        .until(() -> c.leader().map(primary::equals).orElse(false));
    Cli.Run resume = Cli.run(c, "resume");
    assertThat(resume.rc()).as(resume.out() + resume.err()).isZero();
    c.awaitHealthy("healthy after resume", Duration.ofMinutes(2));
    assertThat(c.leader()).contains(primary);
    assertThat(c.viewNow().topology().term()).as("no failover").isEqualTo(term);
  }
}
