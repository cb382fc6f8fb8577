package io.pgwarden.common.config;

import java.net.URI;
import java.util.List;

/** Where etcd is and how to authenticate to it. */
public record EtcdConfig(List<String> endpoints, Credentials auth, TlsConfig tls) {
  public EtcdConfig {
    if (endpoints == null || endpoints.isEmpty()) {
      throw new IllegalArgumentException("endpoints: at least one etcd endpoint is needed");
    }
    endpoints = List.copyOf(endpoints);
    for (String e : endpoints) {
      URI u;
      try {
        u = URI.create(e);
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException("endpoints: '" + e + "' is not a URL", ex);
      }
      if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null || u.getPort() < 1) {
        throw new IllegalArgumentException("endpoints: '" + e + "' must look like http://host:port or https://host:port");
      }
    }
  }

  /** CA, client certificate and key, all PEM files. */
  public record TlsConfig(String ca, String cert, String key) {
    public TlsConfig {
      if (ca == null) {
        throw new IllegalArgumentException("ca is missing");
      }
      if ((cert == null) != (key == null)) {
        throw new IllegalArgumentException("cert and key go together");
      }
    }
  }
}
