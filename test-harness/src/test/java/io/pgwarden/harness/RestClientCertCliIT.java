package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.agent.tls.TestCerts;
import io.pgwarden.harness.cluster.TestCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A real agent with {@code api.tls} and {@code api.tls.client_ca}: {@code pgwarden reload} is
 * authenticated by a client certificate alone; without one, a wrong password gets 401.
 */
class RestClientCertCliIT {
  private static final TestCerts CERTS = certs();

  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(1, TestCluster.TEST_TIMING,
      node -> Map.of("api", Map.of("tls", Map.of("cert", CERTS.serverCert().toString(),
          "key", CERTS.serverKey().toString(), "client_ca", CERTS.ca().toString()))));

  private static TestCerts certs() {
    try {
      // The agent runs as the postgres user: it must be able to read the server key.
      Path d = Files.createTempDirectory("pgwarden-api-certs-");
      TestCerts c = TestCerts.create(d);
      try (Stream<Path> files = Files.list(d)) {
        for (Path f : files.toList()) {
          Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        }
      }
      Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
      return c;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Test
  void theCliAuthenticatesWithAClientCertificate() {
    TestCluster c = CLUSTER.get();
    c.awaitHealthy();
    String node = c.nodes().get(0);
    assertThat(c.member(node).orElseThrow().apiUrl()).startsWith("https://");

    Cli.Run wrong = Cli.run(c, "reload", node, "--api-cacert", CERTS.ca().toString(), "--api-password", "nope");
    assertThat(wrong.rc()).isEqualTo(1);
    assertThat(wrong.out()).contains("refused").contains("--api-cert");

    int reloadsBefore = c.agentLogCount(node, "reloaded PostgreSQL configuration");
    Cli.Run byCert = Cli.run(c, "reload", node, "--api-cacert", CERTS.ca().toString(), "--api-password", "nope",
        "--api-cert", CERTS.clientCert().toString(), "--api-key", CERTS.clientKey().toString());
    assertThat(byCert.rc()).as(byCert.out() + byCert.err()).isZero();
    await("the agent reloads").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
        .until(() -> c.agentLogCount(node, "reloaded PostgreSQL configuration") > reloadsBefore);
    assertThat(c.agentLog(node)).contains("authenticated by client certificate CN=pgwarden-client");
  }
}
