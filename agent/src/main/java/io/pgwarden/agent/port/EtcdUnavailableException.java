package io.pgwarden.agent.port;

/** etcd did not answer in time, or answered that it cannot serve (no leader, unavailable). */
public class EtcdUnavailableException extends PghaException {
  private static final long serialVersionUID = 1L;

  public EtcdUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
