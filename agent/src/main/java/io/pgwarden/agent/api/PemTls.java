package io.pgwarden.agent.api;

import io.pgwarden.agent.port.PghaException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS contexts from PEM files, with the JDK alone: a certificate chain and an unencrypted PKCS#8
 * key ({@code BEGIN PRIVATE KEY}; convert others with {@code openssl pkcs8 -topk8 -nocrypt}).
 */
public final class PemTls {
  private static final Pattern PRIVATE_KEY =
      Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");
  private static final char[] IN_MEMORY = new char[0];

  private PemTls() {}

  /** A server context presenting {@code cert} (leaf first, then intermediates) with {@code key}. */
  public static SSLContext serverContext(Path cert, Path key) {
    return serverContext(cert, key, null);
  }

  /**
   * As {@link #serverContext(Path, Path)}, verifying client certificates against exactly the
   * certificates in {@code clientCa} (null: the JDK's default trust, and no client is asked for one).
   */
  public static SSLContext serverContext(Path cert, Path key, Path clientCa) {
    KeyManagerFactory kmf;
    try {
      kmf = keyManagers(cert, key);
    } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
      throw new PghaException("api.tls: cannot load cert " + cert + " and key " + key + ": " + e.getMessage(), e);
    }
    TrustManagerFactory tmf;
    try {
      tmf = clientCa == null ? null : trustManagers(clientCa);
    } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
      throw new PghaException("api.tls.client_ca: cannot load CA certificates from " + clientCa + ": "
          + e.getMessage(), e);
    }
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), new SecureRandom());
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new PghaException("api.tls: " + e.getMessage(), e);
    }
  }

  /**
   * A client context trusting exactly {@code ca} (null: the JDK's default trust) and presenting
   * {@code cert} with {@code key}.
   */
  public static SSLContext clientContext(Path ca, Path cert, Path key) {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(keyManagers(cert, key).getKeyManagers(), ca == null ? null : trustManagers(ca).getTrustManagers(),
          new SecureRandom());
      return ctx;
    } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
      throw new PghaException("cannot load client cert " + cert + ", key " + key + " or CA " + ca + ": "
          + e.getMessage(), e);
    }
  }

  private static KeyManagerFactory keyManagers(Path cert, Path key) throws IOException, GeneralSecurityException {
    List<Certificate> chain = certificates(cert);
    PrivateKey pk = privateKey(key);
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("pgwarden", pk, IN_MEMORY, chain.toArray(Certificate[]::new));
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, IN_MEMORY);
    return kmf;
  }

  private static TrustManagerFactory trustManagers(Path ca) throws IOException, GeneralSecurityException {
    KeyStore ts = KeyStore.getInstance("PKCS12");
    ts.load(null, null);
    int i = 0;
    for (Certificate c : certificates(ca)) {
      ts.setCertificateEntry("ca" + i++, c);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ts);
    return tmf;
  }

  /** A client context trusting exactly the certificates in {@code ca}. */
  public static SSLContext trusting(Path ca) {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, trustManagers(ca).getTrustManagers(), new SecureRandom());
      return ctx;
    } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
      throw new PghaException("cannot load CA certificates from " + ca + ": " + e.getMessage(), e);
    }
  }

  static List<Certificate> certificates(Path pem) throws IOException, GeneralSecurityException {
    Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509")
        .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(pem)));
    if (certs.isEmpty()) {
      throw new IllegalArgumentException("no certificate in " + pem);
    }
    return new ArrayList<>(certs);
  }

  static PrivateKey privateKey(Path pem) throws IOException, GeneralSecurityException {
    String text = Files.readString(pem, StandardCharsets.US_ASCII);
    Matcher m = PRIVATE_KEY.matcher(text);
    if (!m.find()) {
      throw new IllegalArgumentException("no unencrypted PKCS#8 key (BEGIN PRIVATE KEY) in " + pem
          + "; convert it with: openssl pkcs8 -topk8 -nocrypt");
    }
    byte[] der = Base64.getMimeDecoder().decode(m.group(1));
    GeneralSecurityException last = null;
    for (String alg : List.of("RSA", "EC", "Ed25519")) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        last = e;
      }
    }
    throw last;
  }
}
