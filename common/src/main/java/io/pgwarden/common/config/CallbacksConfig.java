package io.pgwarden.common.config;

import java.util.List;

/**
 * Programs run on role change, start and stop, as Patroni's callbacks: argument lists (never a
 * shell string), called with {@code action role scope} appended, bounded by {@code timeout} seconds.
 *
 * @param onRoleChange run when PostgreSQL changes role while running (promoted, demoted to replica)
 * @param onStart run when PostgreSQL was seen starting
 * @param onStop run when PostgreSQL was seen stopping
 */
public record CallbacksConfig(List<String> onRoleChange, List<String> onStart, List<String> onStop, Integer timeout) {
  public static final int DEFAULT_TIMEOUT = 30;
  public static final CallbacksConfig NONE = new CallbacksConfig(null, null, null, null);

  public CallbacksConfig {
    onRoleChange = checked("on_role_change", onRoleChange);
    onStart = checked("on_start", onStart);
    onStop = checked("on_stop", onStop);
    timeout = timeout == null ? DEFAULT_TIMEOUT : timeout;
    if (timeout < 1) {
      throw new IllegalArgumentException("timeout must be >= 1 second, got " + timeout);
    }
  }

  private static List<String> checked(String field, List<String> argv) {
    if (argv == null) {
      return List.of();
    }
    if (argv.isEmpty() || argv.get(0) == null || argv.get(0).isBlank()) {
      throw new IllegalArgumentException(field + ": needs a program (an argument list, e.g. [/usr/local/bin/x, arg])");
    }
    for (String a : argv) {
      if (a == null) {
        throw new IllegalArgumentException(field + ": an argument is null");
      }
    }
    return List.copyOf(argv);
  }
}
