/**
 * Adapters to the local PostgreSQL: its programs (run through {@link
 * io.pgwarden.agent.postgres.ProcessRunner}, never a shell), its config files, and JDBC for probing.
 * Implements the {@code io.pgwarden.agent.port} interfaces {@code PostgresControl} and {@code
 * PostgresProbe}. May depend on {@code io.pgwarden.common}, {@code io.pgwarden.agent.port}, pgjdbc
 * and SLF4J; nothing here decides what to do, only how.
 */
package io.pgwarden.agent.postgres;
