package io.pgwarden.common.model;

import com.fasterxml.jackson.annotation.JsonValue;

/** What a member's PostgreSQL runs as right now. */
public enum Role {
  PRIMARY,
  REPLICA,
  UNKNOWN;

  @JsonValue
  public String json() {
    return name().toLowerCase();
  }
}
