package io.pgwarden.common.config;

/** The agent's REST API. Changing calls need {@code auth}; health GETs stay open. */
public record ApiConfig(HostPort listen, HostPort connectAddress, Credentials auth) {
  public ApiConfig {
    if (listen == null) {
      throw new IllegalArgumentException("listen is missing (host:port)");
    }
    connectAddress = connectAddress == null ? listen : connectAddress;
  }

  public String url() {
    return "http://" + connectAddress;
  }
}
