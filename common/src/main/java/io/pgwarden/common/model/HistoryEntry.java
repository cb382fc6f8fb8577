package io.pgwarden.common.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One change of primary. {@code switchLsn} is where {@code timeline} forked off its parent: a node
 * whose WAL on the parent timeline goes past it has diverged and must be rewound before it follows.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record HistoryEntry(
    long term,
    String kind,
    String from,
    String to,
    long timeline,
    Lsn switchLsn,
    String at,
    String reason) {

  public HistoryEntry {
    if (term < 1) {
      throw new IllegalArgumentException("history.term must be >= 1");
    }
    if (kind == null || kind.isBlank()) {
      throw new IllegalArgumentException("history.kind is missing");
    }
  }
}
