package io.pgwarden.common.config;

/**
 * The agent's REST API. Changing calls need {@code auth}; health GETs stay open.
 *
 * @param tls when set, the API speaks HTTPS only, presenting {@code cert} with {@code key} (PEM;
 *     the key unencrypted PKCS#8); with {@code client_ca} a client certificate it verifies also
 *     authenticates changing calls
 */
public record ApiConfig(HostPort listen, HostPort connectAddress, Credentials auth, TlsConfig tls) {
  public ApiConfig {
    if (listen == null) {
      throw new IllegalArgumentException("listen is missing (host:port)");
    }
    connectAddress = connectAddress == null ? listen : connectAddress;
  }

  /** Without TLS. */
  public ApiConfig(HostPort listen, HostPort connectAddress, Credentials auth) {
    this(listen, connectAddress, auth, null);
  }

  public String url() {
    return (tls == null ? "http://" : "https://") + connectAddress;
  }

  /**
   * The server's certificate (chain) and key, PEM files.
   *
   * @param clientCa CA certificates (PEM) a client certificate must chain to; null: client
   *     certificates are not asked for. The server only asks (wants, never needs) one, so health
   *     GETs from load balancers without a certificate keep working.
   */
  public record TlsConfig(String cert, String key, String clientCa) {
    /** Without client certificates. */
    public TlsConfig(String cert, String key) {
      this(cert, key, null);
    }

    public TlsConfig {
      if (cert == null || cert.isBlank()) {
        throw new IllegalArgumentException("cert is missing");
      }
      if (key == null || key.isBlank()) {
        throw new IllegalArgumentException("key is missing");
      }
      if (clientCa != null && clientCa.isBlank()) {
        throw new IllegalArgumentException("client_ca is empty");
      }
    }
  }
}
