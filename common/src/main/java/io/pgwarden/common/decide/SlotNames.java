package io.pgwarden.common.decide;

import java.util.Locale;
import java.util.regex.Pattern;

/** A member's physical replication slot name: PostgreSQL allows only [a-z0-9_], at most 63 bytes. */
public final class SlotNames {
  /** Compiled once: String.replaceAll compiles its pattern on every call; the leader names every slot each tick. */
  private static final Pattern NOT_ALLOWED = Pattern.compile("[^a-z0-9_]");

  private SlotNames() {}

  public static String of(String member) {
    String s = NOT_ALLOWED.matcher(member.toLowerCase(Locale.ROOT)).replaceAll("_");
    return s.length() > 63 ? s.substring(0, 63) : s;
  }
}
