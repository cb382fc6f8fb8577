package io.pgwarden.agent;

import io.pgwarden.common.config.ConfigException;
import io.pgwarden.common.config.Credentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Resolves a password from the config, a file or an environment variable, once, at start-up. */
public final class Secrets {
  private Secrets() {}

  public static Credentials resolve(String field, Credentials c, Map<String, String> env) {
    if (c == null) {
      return null;
    }
    if (c.password() != null) {
      return c;
    }
    if (c.passwordFile() != null) {
      try {
        String text = Files.readString(Path.of(c.passwordFile()));
        return c.withPassword(text.strip());
      } catch (IOException e) {
        throw new ConfigException(field + ".password_file: cannot read " + c.passwordFile() + " (" + e.getClass().getSimpleName() + ")");
      }
    }
    if (c.passwordEnv() != null) {
      String v = env.get(c.passwordEnv());
      if (v == null) {
        throw new ConfigException(field + ".password_env: environment variable " + c.passwordEnv() + " is not set");
      }
      return c.withPassword(v);
    }
    return c;
  }
}
