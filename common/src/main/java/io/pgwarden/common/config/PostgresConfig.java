package io.pgwarden.common.config;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The local PostgreSQL this agent manages. */
public record PostgresConfig(
    String binDir,
    String dataDir,
    HostPort listen,
    HostPort connectAddress,
    Authentication authentication,
    Map<String, Object> parameters,
    List<String> pgHba) {

  public static final String DEFAULT_BIN_DIR = "/usr/lib/postgresql/15/bin";

  public PostgresConfig {
    binDir = binDir == null ? DEFAULT_BIN_DIR : binDir;
    if (dataDir == null || dataDir.isBlank()) {
      throw new IllegalArgumentException("data_dir is missing");
    }
    if (!dataDir.startsWith("/")) {
      throw new IllegalArgumentException("data_dir must be an absolute path, got '" + dataDir + "'");
    }
    if (listen == null) {
      throw new IllegalArgumentException("listen is missing (host:port)");
    }
    connectAddress = connectAddress == null ? listen : connectAddress;
    if (authentication == null) {
      throw new IllegalArgumentException("authentication is missing (superuser and replication)");
    }
    parameters = parameters == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(parameters));
    for (String p : parameters.keySet()) {
      if (!p.matches("[a-z_][a-z0-9_.]*")) {
        throw new IllegalArgumentException("parameters: '" + p + "' is not a PostgreSQL parameter name");
      }
    }
    pgHba = pgHba == null ? List.of() : List.copyOf(pgHba);
  }

  /** The superuser the agent connects as, and the role replicas stream with. */
  public record Authentication(Credentials superuser, Credentials replication) {
    public Authentication {
      if (superuser == null) {
        throw new IllegalArgumentException("superuser is missing");
      }
      if (replication == null) {
        throw new IllegalArgumentException("replication is missing");
      }
    }
  }
}
