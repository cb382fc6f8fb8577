package io.pgwarden.agent.port;

/** The only exception that escapes the loop: continuing would risk data. Main exits non-zero. */
public class FatalAgentException extends PghaException {
  private static final long serialVersionUID = 1L;

  public FatalAgentException(String message) {
    super(message);
  }

  public FatalAgentException(String message, Throwable cause) {
    super(message, cause);
  }
}
