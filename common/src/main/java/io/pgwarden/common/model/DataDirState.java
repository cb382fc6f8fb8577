package io.pgwarden.common.model;

/** What is on disk where the data directory should be. */
public enum DataDirState {
  /** Absent or empty: nothing to lose. */
  EMPTY,
  /** Has a readable pg_control. */
  VALID,
  /** Non-empty but not a usable cluster (for example, an interrupted initdb): moved aside, never deleted. */
  INVALID,
  /** Could not be inspected. */
  UNKNOWN
}
