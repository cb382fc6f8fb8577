package io.pgwarden.common.config;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * A user and where its password comes from: inline, a file, or an environment variable. Only
 * {@code Main} resolves the latter two, once, at start-up.
 */
public record Credentials(String username, String password, String passwordFile, String passwordEnv) {
  public Credentials {
    if (username == null || username.isBlank()) {
      throw new IllegalArgumentException("username is missing");
    }
    int sources = (password != null ? 1 : 0) + (passwordFile != null ? 1 : 0) + (passwordEnv != null ? 1 : 0);
    if (sources > 1) {
      throw new IllegalArgumentException("give only one of password, password_file, password_env");
    }
  }

  public Credentials withPassword(String resolved) {
    return new Credentials(username, resolved, null, null);
  }

  @JsonIgnore
  public boolean hasPasswordSource() {
    return password != null || passwordFile != null || passwordEnv != null;
  }

  @Override
  public String toString() {
    return "Credentials[username=" + username + ", password=" + (hasPasswordSource() ? "***" : "none") + "]";
  }
}
