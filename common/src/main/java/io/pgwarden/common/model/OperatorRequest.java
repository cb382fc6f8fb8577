package io.pgwarden.common.model;

/** A one-off request an operator sent to one agent through its REST API. */
public enum OperatorRequest {
  /** Restart PostgreSQL in its current role. */
  RESTART,
  /** Re-render the config files and reload PostgreSQL. */
  RELOAD,
  /** Throw this replica's data away (moved aside) and take a fresh base backup from the primary. */
  REINIT
}
