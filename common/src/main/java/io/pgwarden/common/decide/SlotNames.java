package io.pgwarden.common.decide;

import java.util.Locale;

/** A member's physical replication slot name: PostgreSQL allows only [a-z0-9_], at most 63 bytes. */
public final class SlotNames {
  private SlotNames() {}

  public static String of(String member) {
    String s = member.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    return s.length() > 63 ? s.substring(0, 63) : s;
  }
}
