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
      if (e != null && !e.contains("://") && e.matches("[A-Za-z0-9.\\[\\]:-]+:[0-9]+")) {
        throw new IllegalArgumentException("endpoints: '" + e + "' needs a scheme: http://" + e
            + " (or https:// with etcd.tls)");
      }
      URI u;
      try {
        u = URI.create(e);
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException("endpoints: '" + e + "' is not a URL", ex);
      }
      if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null || u.getPort() < 1
          || u.getPort() > 65535) {
        throw new IllegalArgumentException("endpoints: '" + e + "' must look like http://host:port or https://host:port"
            + " (port 1 to 65535)");
      }
      // Without them the client would talk plain text to an etcd the operator believes is reached over TLS.
      if ("https".equals(u.getScheme()) && tls == null) {
        throw new IllegalArgumentException("endpoints: '" + e + "' is https, but there are no etcd.tls settings (ca,"
            + " and cert and key for a client certificate); pgwarden does not fall back to plain text"
            + " (the CLI takes them from --config FILE)");
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
