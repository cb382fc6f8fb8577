package io.pgwarden.agent.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.agent.local.FreePorts;
import io.pgwarden.agent.loop.AgentStatus;
import io.pgwarden.agent.loop.OperatorRequests;
import io.pgwarden.agent.loop.WakeupSignal;
import io.pgwarden.agent.tls.TestCerts;
import io.pgwarden.common.config.Credentials;
import io.pgwarden.common.config.HostPort;
import io.pgwarden.common.config.Keys;
import io.pgwarden.common.model.OperatorRequest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code api.tls}: the REST API over HTTPS with a self-signed certificate made by openssl. */
class RestApiTlsIT {
  @TempDir Path dir;

  @Test
  void servesHttpsOnlyAndAuthenticatesChangingCalls() throws Exception {
    Path[] self = TestCerts.selfSigned(dir);
    int port = FreePorts.take(1).get(0);
    OperatorRequests requests = new OperatorRequests(new WakeupSignal());
    AtomicReference<AgentStatus> status = new AtomicReference<>();
    try (RestApi api = new RestApi(new HostPort("127.0.0.1", port), status, System::nanoTime,
        () -> Duration.ofSeconds(20), new RestApi.Operations(new Credentials("admin", "s3cret", null, null), requests,
            null, new Keys("/pgwarden", "t")), PemTls.serverContext(self[0], self[1]))) {
      api.start();
      HttpClient trusting = HttpClient.newBuilder().sslContext(PemTls.trusting(self[0])).build();
      String base = "https://127.0.0.1:" + port;

      // Before the first loop: 503 with the starting body, but over TLS.
      HttpResponse<String> health = trusting.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(503);
      assertThat(health.sslSession()).isPresent();

      HttpResponse<String> wrong = trusting.send(HttpRequest.newBuilder(URI.create(base + "/restart"))
          .header("Authorization", BasicAuth.header("admin", "nope")).POST(HttpRequest.BodyPublishers.noBody())
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(wrong.statusCode()).isEqualTo(401);
      HttpResponse<String> right = trusting.send(HttpRequest.newBuilder(URI.create(base + "/restart"))
          .header("Authorization", BasicAuth.header("admin", "s3cret")).POST(HttpRequest.BodyPublishers.noBody())
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(right.statusCode()).isEqualTo(202);
      assertThat(requests.peek()).isEqualTo(OperatorRequest.RESTART);

      // A client that does not trust the certificate is refused by its own TLS check.
      HttpClient plainTrust = HttpClient.newHttpClient();
      assertThatThrownBy(() -> plainTrust.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
          HttpResponse.BodyHandlers.ofString())).isInstanceOf(IOException.class);
      // Plain HTTP on the TLS port gets no HTTP answer.
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      assertThatThrownBy(() -> http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString())).isInstanceOf(IOException.class);
    }
  }

  @Test
  void aKeyThatIsNotPkcs8IsRejectedWithTheConversionHint() throws Exception {
    Path[] self = TestCerts.selfSigned(dir);
    assertThatThrownBy(() -> PemTls.serverContext(self[0], self[0]))
        .hasMessageContaining("api.tls").hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
  }
}
