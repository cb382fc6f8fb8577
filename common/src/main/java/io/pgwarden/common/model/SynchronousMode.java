package io.pgwarden.common.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** Whether commits wait for a synchronous standby. */
public enum SynchronousMode {
  OFF,
  ON,
  STRICT;

  @JsonCreator
  public static SynchronousMode parse(Object value) {
    if (value instanceof Boolean b) {
      return b ? ON : OFF;
    }
    String s = String.valueOf(value).trim().toLowerCase();
    switch (s) {
      case "off":
      case "false":
        return OFF;
      case "on":
      case "true":
        return ON;
      case "strict":
        return STRICT;
      default:
        throw new IllegalArgumentException("synchronous_mode must be off, on or strict, got '" + value + "'");
    }
  }

  @JsonValue
  public String json() {
    return name().toLowerCase();
  }
}
