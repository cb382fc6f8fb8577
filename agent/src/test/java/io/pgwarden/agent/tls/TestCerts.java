package io.pgwarden.agent.tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away CA with a server certificate (for 127.0.0.1 and localhost) and a client
 * certificate, made with the {@code openssl} command line. Keys are unencrypted PKCS#8.
 */
public record TestCerts(Path ca, Path serverCert, Path serverKey, Path clientCert, Path clientKey) {

  public static TestCerts create(Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
        "-days", "2", "-subj", "/CN=pgwarden-test-ca");
    Files.writeString(dir.resolve("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        + "extendedKeyUsage=serverAuth,clientAuth\n");
    Files.writeString(dir.resolve("client.ext"), "extendedKeyUsage=clientAuth\n");
    for (String who : List.of("server", "client")) {
      openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", who + ".rsa.key", "-out", who + ".csr",
          "-subj", "/CN=" + (who.equals("server") ? "localhost" : "pgwarden-client"));
      openssl(dir, "x509", "-req", "-in", who + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
          "-out", who + ".crt", "-days", "2", "-extfile", who + ".ext");
      openssl(dir, "pkcs8", "-topk8", "-nocrypt", "-in", who + ".rsa.key", "-out", who + ".key");
    }
    return new TestCerts(dir.resolve("ca.crt"), dir.resolve("server.crt"), dir.resolve("server.key"),
        dir.resolve("client.crt"), dir.resolve("client.key"));
  }

  /** A self-signed server certificate for 127.0.0.1 alone (no CA): {cert, key}. */
  public static Path[] selfSigned(Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "self.rsa.key", "-out", "self.crt",
        "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1");
    openssl(dir, "pkcs8", "-topk8", "-nocrypt", "-in", "self.rsa.key", "-out", "self.key");
    return new Path[] {dir.resolve("self.crt"), dir.resolve("self.key")};
  }

  private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add("openssl");
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
  }
}
