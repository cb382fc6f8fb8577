package io.pgwarden.agent.port;

/** Base of pgwarden's unchecked exceptions; every wrap adds context. */
public class PghaException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public PghaException(String message) {
    super(message);
  }

  public PghaException(String message, Throwable cause) {
    super(message, cause);
  }
}
