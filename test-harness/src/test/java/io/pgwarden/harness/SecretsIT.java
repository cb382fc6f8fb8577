package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.harness.cluster.TestCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * No password of the cluster (superuser, replication, REST API) appears in an agent log, in etcd,
 * in {@code /cluster}, or on any command line in {@code ps} — also while a replica is re-cloned
 * with pg_basebackup.
 */
class SecretsIT {
  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(2);

  @Test
  void passwordsAppearNowhere() throws Exception {
    TestCluster c = CLUSTER.get();
    c.awaitHealthy();
    List<String> passwords = new ArrayList<>();
    for (String f : List.of("superuser", "replication", "api")) {
      String pw = Files.readString(c.local().dir().resolve("secrets").resolve(f)).trim();
      assertThat(pw).as(f + " password").hasSizeGreaterThan(8);
      passwords.add(pw);
    }
    String primary = c.leader().orElseThrow();
    String replica = c.otherThan(primary);

    // Watch every command line while the replica is cloned afresh (pg_basebackup, pg_ctl, ...).
    Set<String> commandLines = ConcurrentHashMap.newKeySet();
    commandLines.addAll(ps());
    Cli.Run reinit = Cli.run(c, "reinit", replica, "--force");
    assertThat(reinit.rc()).as(reinit.out() + reinit.err()).isZero();
    await(replica + " re-cloned").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100))
        .until(() -> {
          commandLines.addAll(ps());
          return !c.movedAsideDataDirs(replica).isEmpty() && c.healthy();
        });
    assertThat(commandLines).as("command lines seen").anyMatch(l -> l.contains("pg_basebackup"));

    StringBuilder everywhere = new StringBuilder();
    for (String n : c.nodes()) {
      everywhere.append(c.agentLog(n));
    }
    everywhere.append(etcdctl(c, "get", "--prefix", "/"));
    HttpClient http = HttpClient.newHttpClient();
    for (String n : c.nodes()) {
      String api = c.member(n).orElseThrow().apiUrl();
      everywhere.append(http.send(HttpRequest.newBuilder(URI.create(api + "/cluster")).build(),
          HttpResponse.BodyHandlers.ofString()).body());
      everywhere.append(http.send(HttpRequest.newBuilder(URI.create(api + "/config")).build(),
          HttpResponse.BodyHandlers.ofString()).body());
    }
    String text = everywhere.toString();
    assertThat(text).contains(primary).contains("/pgwarden/");
    for (String pw : passwords) {
      assertThat(text).as("logs, etcd and /cluster").doesNotContain(pw);
      assertThat(commandLines).as("ps -eo args").noneMatch(l -> l.contains(pw));
    }
  }

  private static List<String> ps() throws Exception {
    Process p = new ProcessBuilder("ps", "-eo", "args").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(10, TimeUnit.SECONDS);
    return List.of(out.split("\n"));
  }

  private static String etcdctl(TestCluster c, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("etcdctl", "--endpoints", c.etcd().endpointsCsv()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("ETCDCTL_"));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }
}
