package io.pgwarden.agent.port;

import io.pgwarden.common.model.LocalPgState;

/** Reads the local PostgreSQL's state. Never throws: failures are {@link LocalPgState#unknown}. */
public interface PostgresProbe {
  LocalPgState probe();
}
