package io.pgwarden.agent.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

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
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code api.tls.client_ca}: over HTTPS a changing call is authenticated by basic auth or by a client
 * certificate from the configured CA, while health GETs need neither. Certificates made by openssl.
 */
class RestApiClientCertIT {
  @TempDir Path dir;
  private TestCerts ours;
  private TestCerts theirs;
  private final OperatorRequests requests = new OperatorRequests(new WakeupSignal());
  private final AtomicReference<AgentStatus> status = new AtomicReference<>();

  @BeforeEach
  void certs() throws Exception {
    ours = TestCerts.create(dir.resolve("ours"));
    theirs = TestCerts.create(dir.resolve("theirs"));
  }

  private RestApi start(Credentials auth) throws IOException {
    RestApi api = new RestApi(new HostPort("127.0.0.1", FreePorts.take(1).get(0)), status, System::nanoTime,
        () -> Duration.ofSeconds(20), new RestApi.Operations(auth, requests, null, new Keys("/pgwarden", "t")),
        PemTls.serverContext(ours.serverCert(), ours.serverKey(), ours.ca()), true);
    api.start();
    return api;
  }

  private static String base(RestApi api) {
    return "https://127.0.0.1:" + api.address().getPort();
  }

  private static HttpResponse<String> post(HttpClient client, String url, String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.noBody());
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpClient client(SSLContext ctx) {
    return HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(10)).build();
  }

  @Test
  void basicAuthOrAVerifiedClientCertificateAuthenticatesChangingCalls() throws Exception {
    try (RestApi api = start(new Credentials("admin", "s3cret", null, null))) {
      HttpClient anonymous = client(PemTls.trusting(ours.ca()));

      // A load balancer without a certificate still gets its health answer (503: no loop has run yet).
      HttpResponse<String> health = anonymous.send(HttpRequest.newBuilder(URI.create(base(api) + "/health")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(503);
      assertThat(health.body()).contains("starting");
      HttpResponse<Void> head = anonymous.send(HttpRequest.newBuilder(URI.create(base(api) + "/primary"))
          .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
      assertThat(head.statusCode()).isEqualTo(503);

      // No credentials, no certificate: 401, nothing handed to the loop.
      HttpResponse<String> none = post(anonymous, base(api) + "/restart", null);
      assertThat(none.statusCode()).isEqualTo(401);
      assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Basic realm=\"pgwarden\"");
      assertThat(requests.peek()).isNull();

      HttpResponse<String> wrong = post(anonymous, base(api) + "/restart", BasicAuth.header("admin", "nope"));
      assertThat(wrong.statusCode()).isEqualTo(401);
      assertThat(requests.peek()).isNull();

      // A certificate from the configured CA is enough on its own.
      HttpClient withCert = client(PemTls.clientContext(ours.ca(), ours.clientCert(), ours.clientKey()));
      HttpResponse<String> byCert = post(withCert, base(api) + "/reload", null);
      assertThat(byCert.statusCode()).isEqualTo(202);
      assertThat(requests.peek()).isEqualTo(OperatorRequest.RELOAD);
      requests.done(OperatorRequest.RELOAD);

      // Basic auth keeps working for clients without a certificate.
      HttpResponse<String> byPassword = post(anonymous, base(api) + "/restart", BasicAuth.header("admin", "s3cret"));
      assertThat(byPassword.statusCode()).isEqualTo(202);
      assertThat(requests.peek()).isEqualTo(OperatorRequest.RESTART);
      requests.done(OperatorRequest.RESTART);

      // A certificate from another CA does not authenticate: the handshake fails or the call gets 401.
      HttpClient stranger = client(PemTls.clientContext(ours.ca(), theirs.clientCert(), theirs.clientKey()));
      Throwable failed = catchThrowable(() -> {
        HttpResponse<String> r = post(stranger, base(api) + "/reinit", null);
        assertThat(r.statusCode()).isEqualTo(401);
      });
      assertThat(failed).satisfiesAnyOf(t -> assertThat(t).isNull(), t -> assertThat(t).isInstanceOf(IOException.class));
      assertThat(requests.peek()).isNull();
    }
  }

  @Test
  void withoutBasicAuthOnlyACertificateAuthenticates() throws Exception {
    try (RestApi api = start(null)) {
      HttpClient anonymous = client(PemTls.trusting(ours.ca()));
      HttpResponse<String> none = post(anonymous, base(api) + "/restart", BasicAuth.header("admin", "s3cret"));
      assertThat(none.statusCode()).isEqualTo(401);
      assertThat(none.body()).contains("client certificate");
      assertThat(none.headers().firstValue("WWW-Authenticate")).isEmpty();
      assertThat(requests.peek()).isNull();

      HttpClient withCert = client(PemTls.clientContext(ours.ca(), ours.clientCert(), ours.clientKey()));
      assertThat(post(withCert, base(api) + "/restart", null).statusCode()).isEqualTo(202);
      assertThat(requests.peek()).isEqualTo(OperatorRequest.RESTART);
    }
  }
}
