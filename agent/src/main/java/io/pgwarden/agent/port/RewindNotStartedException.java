package io.pgwarden.agent.port;

/**
 * pg_rewind failed before it changed anything in the target data directory (it could not even connect
 * to its source): the directory is as it was, so it may be started or rewound again.
 */
public class RewindNotStartedException extends PostgresCommandException {
  private static final long serialVersionUID = 1L;

  public RewindNotStartedException(PostgresCommandException cause) {
    super("pg_rewind", cause.exitCode(), cause.stderrTail());
    initCause(cause);
  }

  public RewindNotStartedException(String message, Throwable cause) {
    super("pg_rewind", message, cause);
  }
}
