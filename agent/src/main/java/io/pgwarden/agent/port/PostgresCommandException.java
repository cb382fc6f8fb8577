package io.pgwarden.agent.port;

/** A PostgreSQL program or SQL command failed. */
public class PostgresCommandException extends PghaException {
  private static final long serialVersionUID = 1L;
  private final String command;
  private final int exitCode;
  private final String stderrTail;

  public PostgresCommandException(String command, int exitCode, String stderrTail) {
    super(command + " failed with exit code " + exitCode + (stderrTail == null || stderrTail.isBlank() ? "" : ": " + stderrTail.strip()));
    this.command = command;
    this.exitCode = exitCode;
    this.stderrTail = stderrTail;
  }

  public PostgresCommandException(String command, String message, Throwable cause) {
    super(command + " failed: " + message, cause);
    this.command = command;
    this.exitCode = -1;
    this.stderrTail = null;
  }

  public String command() {
    return command;
  }

  public int exitCode() {
    return exitCode;
  }

  public String stderrTail() {
    return stderrTail;
  }
}
