package io.pgwarden.agent.ops;

import java.util.Locale;

/** Byte sizes as operators write them in Patroni configs and health checks: 16MB, 1 GB, 512kB, 1024. */
public final class Sizes {
  private Sizes() {}

  public static long parseBytes(String text) {
    String t = text.trim().toUpperCase(Locale.ROOT).replace(" ", "");
    long mult = 1;
    String[][] units = {{"TB", "1099511627776"}, {"GB", "1073741824"}, {"MB", "1048576"}, {"KB", "1024"}, {"B", "1"}};
    for (String[] u : units) {
      if (t.endsWith(u[0])) {
        mult = Long.parseLong(u[1]);
        t = t.substring(0, t.length() - u[0].length());
        break;
      }
    }
    try {
      return Math.multiplyExact(Long.parseLong(t), mult);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("expected bytes or a size like 16MB, got '" + text + "'", e);
    }
  }
}
