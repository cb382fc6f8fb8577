package io.pgwarden.common.config;

import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.model.Tags;

/**
 * One node's configuration file.
 *
 * @param bootstrap the dynamic config written to {@code /config} when this node initialises the
 *     cluster; later changes go through the CLI
 * @param callbacks programs run on start, stop and role change; none by default
 */
public record AgentConfig(
    String scope,
    String name,
    String namespace,
    EtcdConfig etcd,
    ApiConfig api,
    PostgresConfig postgresql,
    Tags tags,
    DynamicConfig bootstrap,
    CallbacksConfig callbacks) {

  public static final String DEFAULT_NAMESPACE = "/pgwarden";

  public AgentConfig {
    if (scope == null || !scope.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
      throw new IllegalArgumentException("scope: must be a name of letters, digits, '_', '.', '-', got '" + scope + "'");
    }
    if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
      throw new IllegalArgumentException("name: must be a name of letters, digits, '_', '.', '-', got '" + name + "'");
    }
    namespace = namespace == null ? DEFAULT_NAMESPACE : namespace;
    if (!namespace.startsWith("/") || namespace.endsWith("/") && namespace.length() > 1) {
      throw new IllegalArgumentException("namespace: must start with '/' and not end with it, got '" + namespace + "'");
    }
    if (etcd == null) {
      throw new IllegalArgumentException("etcd: missing");
    }
    if (api == null) {
      throw new IllegalArgumentException("api: missing");
    }
    if (postgresql == null) {
      throw new IllegalArgumentException("postgresql: missing");
    }
    tags = tags == null ? Tags.NONE : tags;
    bootstrap = bootstrap == null ? DynamicConfig.DEFAULTS : bootstrap;
    callbacks = callbacks == null ? CallbacksConfig.NONE : callbacks;
  }

  public Keys keys() {
    return new Keys(namespace, scope);
  }
}
