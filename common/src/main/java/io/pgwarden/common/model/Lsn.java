package io.pgwarden.common.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * A PostgreSQL WAL position. Compare two only when they are on the same timeline; see {@link
 * WalPosition}.
 */
public record Lsn(long value) implements Comparable<Lsn> {
  public static final Lsn ZERO = new Lsn(0);

  public Lsn {
    if (value < 0) {
      throw new IllegalArgumentException("LSN must not be negative: " + value);
    }
  }

  // By hand, not the record's: its equals goes through method handles, and every tick compares positions.
  @Override
  public boolean equals(Object o) {
    return o instanceof Lsn l && l.value == value;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(value);
  }

  /** Parses PostgreSQL's text form, {@code 16/B374D848}. */
  @JsonCreator
  public static Lsn parse(String text) {
    if (text == null) {
      throw new IllegalArgumentException("LSN is missing");
    }
    int slash = text.indexOf('/');
    if (slash <= 0 || slash == text.length() - 1) {
      throw new IllegalArgumentException("not an LSN (expected like 0/3000060): '" + text + "'");
    }
    try {
      long hi = Long.parseLong(text.substring(0, slash), 16);
      long lo = Long.parseLong(text.substring(slash + 1), 16);
      if (hi > 0xFFFFFFFFL || lo > 0xFFFFFFFFL) {
        throw new IllegalArgumentException("LSN out of range: '" + text + "'");
      }
      return new Lsn((hi << 32) | lo);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not an LSN (expected like 0/3000060): '" + text + "'", e);
    }
  }

  public long minus(Lsn other) {
    return value - other.value;
  }

  @Override
  public int compareTo(Lsn o) {
    return Long.compareUnsigned(value, o.value);
  }

  public boolean isAfter(Lsn o) {
    return compareTo(o) > 0;
  }

  @JsonValue
  @Override
  public String toString() {
    return Long.toHexString(value >>> 32).toUpperCase() + "/" + Long.toHexString(value & 0xFFFFFFFFL).toUpperCase();
  }
}
