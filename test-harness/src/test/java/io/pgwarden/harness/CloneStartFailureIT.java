package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.harness.cluster.TestCluster;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A fresh copy that cannot start (here: its port is taken) is started again until it can, never
 * cloned again: its pg_control is the primary's ("in production"), and judged by that alone it looked
 * like a diverged old primary, so the agent re-cloned it every loop and moved each copy aside until
 * the disk was full.
 */
class CloneStartFailureIT {
  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(2);

  private static final String CLONE = "pg_basebackup from";
  private static final String START = "starting PostgreSQL as REPLICA";

  @Test
  void aCopyThatCannotStartIsRetriedNotClonedAgain() throws Exception {
    TestCluster c = CLUSTER.get();
    String primary = c.awaitHealthy();
    String replica = c.otherThan(primary);
    c.executeOnPrimary("CREATE TABLE kept (id int)");
    c.executeOnPrimary("INSERT INTO kept VALUES (1)");

    // A node that lost its disk: no agent, no PostgreSQL, an empty data directory.
    c.powerOff(replica);
    await(replica + " down").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
        .until(() -> !c.isRunning(replica));
    Path data = Path.of(c.local().node(replica).dataDir());
    deleteTree(data);
    int pgPort = c.local().node(replica).pgPort();
    int clonesBefore = c.agentLogCount(replica, CLONE);
    int startsBefore = c.agentLogCount(replica, START);

    try (ServerSocket squatter = new ServerSocket()) {
      squatter.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), pgPort));
      c.startAgent(replica);
      await(replica + " cloned and tried to start three times").atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> c.agentLogCount(replica, CLONE) > clonesBefore
              && c.agentLogCount(replica, START) >= startsBefore + 3);

      // Many loops later: the one copy is still there and still being started, nothing moved aside.
      assertThat(c.isRunning(replica)).isFalse();
      assertThat(c.agentLogCount(replica, CLONE)).isEqualTo(clonesBefore + 1);
      assertThat(c.movedAsideDataDirs(replica)).isEmpty();
      assertThat(Files.exists(data.resolve("backup_label"))).as("never started, so never recovered").isTrue();
    }

    // The port is free again: the same copy starts and streams.
    c.awaitHealthy(replica + " streams", Duration.ofMinutes(2));
    assertThat(c.tryQuery(replica, "SELECT count(*) FROM kept").orElseThrow()).isEqualTo(List.of("1"));
    assertThat(c.agentLogCount(replica, CLONE)).as("cloned once").isEqualTo(clonesBefore + 1);
    assertThat(c.movedAsideDataDirs(replica)).isEmpty();
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        if (!q.equals(p)) {
          Files.delete(q);
        }
      }
    }
  }
}
