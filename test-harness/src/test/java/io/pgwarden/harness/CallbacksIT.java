package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.harness.cluster.TestCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Callbacks on a real two-node cluster: each node's on_start, on_role_change and on_stop is a small
 * script appending its arguments (action, role, scope) to that node's file.
 */
class CallbacksIT {
  private static final Path DIR = callbackDir();
  private static final Path SCRIPT = DIR.resolve("callback.sh");

  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(2, TestCluster.TEST_TIMING,
      node -> {
        List<String> argv = List.of(SCRIPT.toString(), DIR.resolve(node + ".calls").toString());
        return Map.of("callbacks", Map.of("on_start", argv, "on_stop", argv, "on_role_change", argv, "timeout", 20));
      });

  private static Path callbackDir() {
    try {
      // The agents run as the postgres user: they must be able to write here.
      Path d = Files.createTempDirectory("pgwarden-callbacks-");
      Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxrwxrwx"));
      Path script = d.resolve("callback.sh");
      Files.writeString(script, "#!/bin/sh\nout=\"$1\"\nshift\necho \"$@\" >> \"$out\"\n");
      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
      return d;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> calls(String node) {
    Path f = DIR.resolve(node + ".calls");
    try {
      return Files.exists(f) ? Files.readAllLines(f) : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void startRoleChangeAndCleanStopRunTheScripts() throws Exception {
    TestCluster c = CLUSTER.get();
    String first = c.awaitHealthy();
    String second = c.otherThan(first);
    await("on_start on both").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
        .until(() -> calls(first).contains("on_start primary it") && calls(second).contains("on_start replica it"));

    // A switchover promotes the replica: on_role_change primary there.
    Cli.Run r = Cli.run(c, "switchover", "--to", second, "--force");
    assertThat(r.rc()).as(r.out() + r.err()).isZero();
    await(second + " leads").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
        .until(() -> c.leader().map(second::equals).orElse(false));
    await("on_role_change primary on " + second).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
        .until(() -> calls(second).contains("on_role_change primary it"));
    await(first + " runs as a replica again").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
        .until(() -> c.healthy() && calls(first).stream().anyMatch(l -> l.endsWith(" replica it")
            && (l.startsWith("on_role_change") || l.startsWith("on_start"))));
    System.out.println("callbacks of " + first + ": " + calls(first));

    // SIGTERM: the agent stops PostgreSQL and runs on_stop before it exits.
    int before = calls(second).size();
    c.local().stopAgent(second);
    assertThat(calls(second)).as("on_stop ran before the agent exited").hasSize(before + 1)
        .last().isEqualTo("on_stop primary it");

    // The remaining replica takes over: a failover, so on_role_change primary there too.
    await(first + " leads after the failover").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
        .until(() -> c.leader().map(first::equals).orElse(false) && c.isWritable(first));
    await("on_role_change primary on " + first).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
        .until(() -> calls(first).contains("on_role_change primary it"));
    System.out.println("callbacks of " + first + ": " + calls(first) + "; of " + second + ": " + calls(second));
  }
}
