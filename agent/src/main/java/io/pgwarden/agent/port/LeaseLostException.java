package io.pgwarden.agent.port;

/** etcd says the lease no longer exists (expired or revoked). */
public class LeaseLostException extends PghaException {
  private static final long serialVersionUID = 1L;

  public LeaseLostException(long leaseId) {
    super("etcd lease " + Long.toHexString(leaseId) + " no longer exists");
  }
}
