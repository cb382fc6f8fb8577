package io.pgwarden.agent.api;

import io.pgwarden.common.config.Credentials;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/** HTTP basic auth for the REST API's changing calls. */
public final class BasicAuth {
  enum Verdict { OK, NOT_CONFIGURED, MISSING, WRONG }

  private final byte[] expected;

  /** {@code credentials} null or without a password: changing calls are refused. */
  BasicAuth(Credentials credentials) {
    this.expected = credentials == null || credentials.password() == null
        ? null
        : digest(credentials.username() + ":" + credentials.password());
  }

  boolean configured() {
    return expected != null;
  }

  Verdict check(String authorizationHeader) {
    if (expected == null) {
      return Verdict.NOT_CONFIGURED;
    }
    if (authorizationHeader == null || !authorizationHeader.regionMatches(true, 0, "Basic ", 0, 6)) {
      return Verdict.MISSING;
    }
    String given;
    try {
      given = new String(Base64.getDecoder().decode(authorizationHeader.substring(6).trim()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return Verdict.WRONG;
    }
    // Digests have a fixed length, so the comparison time says nothing about the password's length
    // or how much of it matched.
    return MessageDigest.isEqual(expected, digest(given)) ? Verdict.OK : Verdict.WRONG;
  }

  public static String header(String user, String password) {
    return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] digest(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
