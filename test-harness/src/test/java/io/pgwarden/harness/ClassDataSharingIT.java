package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.harness.cluster.TestCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The agents of a cluster started the way `pgwarden local up` and bin/pgwarden start them map their
 * classes from the class-data sharing archive made from the class list in the jar. When a dependency
 * changes, the list goes stale and classes come from the jar again — the agents still work, only
 * larger — so this test is what notices; regenerating the list is described in docs/benchmarks.md
 * ("Idle RSS").
 */
class ClassDataSharingIT {
  @Test
  void agentsMapAlmostAllTheirClassesFromTheArchive() throws IOException {
    Path logs = Files.createTempDirectory("pgwarden-cds-");
    // The agents run as the unprivileged postgres user and write their class-loading logs here; sticky,
    // as /tmp is, so that nobody removes another's.
    Files.setAttribute(logs, "unix:mode", 01777);
    List<String> jvm = new ArrayList<>(TestCluster.AGENT_JVM);
    jvm.add("-Xlog:class+load=info:file=" + logs.resolve("classes-%p.log"));
    try (TestCluster c = TestCluster.start(3, TestCluster.TEST_TIMING, jvm, null, true)) {
      c.awaitHealthy();
      Path archive = c.local().dir().resolve("pgwarden.jsa");
      assertThat(archive).isRegularFile();
      for (String node : c.nodes()) {
        long pid = c.local().node(node).agentPid();
        assertThat(Files.readString(Path.of("/proc", Long.toString(pid), "maps")))
            .as("%s's agent maps the archive", node).contains(archive.toString());
        Path log = logs.resolve("classes-" + pid + ".log");
        // Named classes only: lambdas and method-handle forms spun at run time have no file to come from.
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(Files.readAllLines(log)).anyMatch(
            l -> l.contains("io.pgwarden.agent.loop.ReconcileLoop ")));
        List<String> loaded;
        try (Stream<String> lines = Files.lines(log)) {
          loaded = lines.filter(l -> l.contains(" source: ") && !l.contains("__")).toList();
        }
        long shared = loaded.stream().filter(l -> l.contains("source: shared objects file")).count();
        List<String> fromJar = loaded.stream().filter(l -> l.contains("source: file:")).toList();
        assertThat(shared).as("classes %s's agent mapped from the archive", node).isGreaterThan(4000);
        assertThat(shared * 100 / loaded.size())
            .as("%% of %s's %d named classes from the archive; read from the jar instead: %s — the class list "
                + "(agent/src/main/resources/io/pgwarden/agent/local/agent.classlist) is stale",
                node, loaded.size(), fromJar.stream().limit(20).toList())
            .isGreaterThanOrEqualTo(95);
      }
    }
  }
}
