package io.pgwarden.agent.port;

import io.pgwarden.common.model.LocalPgState;

/** Reads the local PostgreSQL's state. Never throws: failures are {@link LocalPgState#unknown}. */
public interface PostgresProbe {
  LocalPgState probe();

  /**
   * Whether a pg_rewind of the data directory started and has not completed since (its source died
   * mid-way, or the agent crashed): a marker on disk, so it outlives the agent. Such a directory may
   * mix two histories and must be replaced by a base backup, never started.
   */
  default boolean rewindIncomplete() {
    return false;
  }
}
