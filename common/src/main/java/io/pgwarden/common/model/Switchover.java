package io.pgwarden.common.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A planned change of primary, written by the CLI to {@code /switchover} and cleared by the new
 * primary once it took office (or by the lock holder when it cannot be done).
 *
 * @param from the primary to hand over from; null: whoever holds the lock
 * @param to the member to hand over to; null: the healthiest replica
 * @param scheduledAt ISO-8601 instant; null: now
 * @param force a forced failover ({@code pgwarden failover}): the named member is promoted even if
 *     the primary is gone; with {@code allowDataLoss} even if it may lack acknowledged writes
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Switchover(String from, String to, String scheduledAt, Boolean force, Boolean allowDataLoss) {
  public Switchover {
    force = force != null && force;
    allowDataLoss = allowDataLoss != null && allowDataLoss;
    if (from == null && to == null) {
      throw new IllegalArgumentException("switchover needs from or to");
    }
    if (scheduledAt != null) {
      try {
        java.time.Instant.parse(scheduledAt);
      } catch (java.time.format.DateTimeParseException e) {
        throw new IllegalArgumentException("scheduled_at must be an ISO-8601 instant like 2026-01-31T23:00:00Z, got '"
            + scheduledAt + "'", e);
      }
    }
    if (allowDataLoss && to == null) {
      throw new IllegalArgumentException("allow_data_loss needs a named target (to)");
    }
  }
}
