package io.pgwarden.agent.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import io.pgwarden.agent.local.FreePorts;
import io.pgwarden.agent.tls.TestCerts;
import io.pgwarden.common.config.Credentials;
import io.pgwarden.common.config.EtcdConfig;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * JetcdClusterStore against a real etcd that serves TLS only and requires client certificates,
 * then also user/password auth: {@code etcd.tls {ca, cert, key}} plus {@code etcd.auth}.
 */
class EtcdTlsIT {
  private static final Duration T = Duration.ofSeconds(10);

  @TempDir static Path dir;
  private static TestCerts certs;
  private static Process etcd;
  private static String endpoint;

  @BeforeAll
  static void startEtcdWithTls() throws Exception {
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.INFO);
    certs = TestCerts.create(dir.resolve("pki"));
    List<Integer> ports = FreePorts.take(2);
    endpoint = "https://127.0.0.1:" + ports.get(0);
    String peer = "http://127.0.0.1:" + ports.get(1);
    ProcessBuilder pb = new ProcessBuilder("etcd", "--name", "tls", "--data-dir", dir.resolve("data").toString(),
        "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "tls=" + peer,
        "--cert-file", certs.serverCert().toString(), "--key-file", certs.serverKey().toString(),
        "--trusted-ca-file", certs.ca().toString(), "--client-cert-auth")
        .redirectErrorStream(true).redirectOutput(new File(dir.resolve("etcd.log").toString()));
    pb.environment().keySet().removeIf(k -> k.startsWith("ETCD_") && !k.equals("ETCD_UNSUPPORTED_ARCH"));
    etcd = pb.start();
    await("etcd with tls healthy").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
        .until(() -> etcdctlRc("endpoint", "health") == 0);
  }

  @AfterAll
  static void stop() throws Exception {
    if (etcd != null) {
      etcd.destroy();
      if (!etcd.waitFor(10, TimeUnit.SECONDS)) {
        etcd.destroyForcibly();
      }
    }
  }

  @Test
  void tlsWithAClientCertificateThenAlsoUserAndPassword() throws Exception {
    EtcdConfig.TlsConfig tls = new EtcdConfig.TlsConfig(certs.ca().toString(), certs.clientCert().toString(),
        certs.clientKey().toString());
    try (JetcdClusterStore s = JetcdClusterStore.connect(new EtcdConfig(List.of(endpoint), null, tls), null)) {
      assertThat(s.putIfAbsent("/pgwarden/tls/leader", "node1", 0, T)).isTrue();
      assertThat(s.get("/pgwarden/tls/leader", T).value()).isEqualTo("node1");
      // Renewals go over the keep-alive stream on the same TLS channel.
      long lease = s.grantLease(Duration.ofSeconds(30), T).leaseId();
      assertThat(s.keepAliveOnce(lease, T)).isEqualTo(Duration.ofSeconds(30));
      assertThat(s.keepAliveOnce(lease, T)).isEqualTo(Duration.ofSeconds(30));
      assertThat(s.keepAliveStreamsOpened()).isEqualTo(1);
    }

    // The server requires a client certificate: the CA alone is not enough.
    EtcdConfig.TlsConfig caOnly = new EtcdConfig.TlsConfig(certs.ca().toString(), null, null);
    try (JetcdClusterStore s = JetcdClusterStore.connect(new EtcdConfig(List.of(endpoint), null, caOnly), null)) {
      assertThatThrownBy(() -> s.get("/pgwarden/tls/leader", T)).isInstanceOf(RuntimeException.class);
    }

    assertThat(etcdctlRc("user", "add", "root", "--new-user-password=tls-s3cret")).isZero();
    assertThat(etcdctlRc("auth", "enable")).isZero();
    Credentials root = new Credentials("root", null, null, "UNUSED_ENV");
    try (JetcdClusterStore s = JetcdClusterStore.connect(new EtcdConfig(List.of(endpoint), root, tls), "tls-s3cret")) {
      assertThat(s.putIfAbsent("/pgwarden/tls/initialize", "42", 0, T)).isTrue();
      assertThat(s.get("/pgwarden/tls/leader", T).value()).isEqualTo("node1");
      // ... with TLS and the auth token together.
      long lease = s.grantLease(Duration.ofSeconds(30), T).leaseId();
      assertThat(s.keepAliveOnce(lease, T)).isEqualTo(Duration.ofSeconds(30));
      assertThat(s.keepAliveOnce(lease, T)).isEqualTo(Duration.ofSeconds(30));
      assertThat(s.keepAliveStreamsOpened()).isEqualTo(1);
    }
    Credentials wrong = new Credentials("root", "nope", null, null);
    try (JetcdClusterStore s = JetcdClusterStore.connect(new EtcdConfig(List.of(endpoint), wrong, tls), null)) {
      assertThatThrownBy(() -> s.get("/pgwarden/tls/leader", T)).isInstanceOf(RuntimeException.class);
    }
  }

  private static int etcdctlRc(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("etcdctl", "--endpoints", endpoint, "--cacert", certs.ca().toString(),
        "--cert", certs.clientCert().toString(), "--key", certs.clientKey().toString(), "--command-timeout=5s"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("ETCDCTL_"));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return -1;
    }
    if (p.exitValue() != 0) {
      System.out.println("etcdctl " + String.join(" ", args) + ": " + out);
    }
    return p.exitValue();
  }
}
