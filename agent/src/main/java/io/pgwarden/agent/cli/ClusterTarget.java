package io.pgwarden.agent.cli;

import io.pgwarden.agent.etcd.JetcdClusterStore;
import io.pgwarden.agent.local.LocalCluster;
import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.agent.Secrets;
import io.pgwarden.common.config.AgentConfig;
import io.pgwarden.common.config.Credentials;
import io.pgwarden.common.config.ConfigLoader;
import io.pgwarden.common.config.EtcdConfig;
import io.pgwarden.common.config.Keys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Option;

/** Which cluster a CLI verb talks to: a node config, a local cluster folder, or etcd plus a scope. */
public final class ClusterTarget {
  @Option(names = {"-c", "--config"}, description = "A node's YAML config (etcd, scope and namespace are taken from it).")
  Path config;

  @Option(names = {"-d", "--dir"}, description = "A local cluster folder (default: ${DEFAULT-VALUE}).",
      defaultValue = "${sys:java.io.tmpdir}/pgwarden-local")
  Path dir;

  @Option(names = {"-e", "--etcd"}, description = "etcd endpoints, comma separated (with --scope).")
  String etcd;

  @Option(names = {"-s", "--scope"}, description = "The cluster name (with --etcd).")
  String scope;

  @Option(names = {"-n", "--namespace"}, description = "The etcd namespace (default /pgwarden).")
  String namespace;

  /** An open store and the key layout; the caller closes the store. */
  public record Connected(ClusterStore store, Keys keys, String scope) {}

  public Connected connect() {
    if (config != null) {
      AgentConfig c = ConfigLoader.load(config);
      Credentials etcdAuth = Secrets.resolve("etcd.auth", c.etcd().auth(), System.getenv());
      return new Connected(JetcdClusterStore.connect(c.etcd(), etcdAuth == null ? null : etcdAuth.password()),
          c.keys(), c.scope());
    }
    if (etcd != null) {
      if (scope == null) {
        throw new IllegalArgumentException("--etcd needs --scope");
      }
      List<String> endpoints = Arrays.stream(etcd.split(",")).map(String::trim).toList();
      return new Connected(JetcdClusterStore.connect(new EtcdConfig(endpoints, null, null), null),
          new Keys(namespace == null ? "/pgwarden" : namespace, scope), scope);
    }
    if (Files.exists(dir.resolve(LocalCluster.STATE_FILE))) {
      LocalCluster.State s = LocalCluster.load(dir).state();
      return new Connected(JetcdClusterStore.connect(new EtcdConfig(s.etcdEndpoints(), null, null), null),
          new Keys(s.namespace(), s.scope()), s.scope());
    }
    if (LocalCluster.isStopped(dir)) {
      throw new IllegalStateException("the local cluster in " + dir.toAbsolutePath() + " is stopped; `pgwarden local"
          + " up --dir " + dir.toAbsolutePath() + "` starts it again");
    }
    throw new IllegalArgumentException("which cluster? give --config FILE, --etcd URL --scope NAME, or --dir of a "
        + "local cluster (" + dir + " has none)");
  }

  /**
   * Credentials for the agents' REST API when none were given on the command line: the node
   * config's {@code api.auth}, else the local cluster's generated ones; null when neither has any.
   */
  Credentials apiCredentials() {
    if (config != null) {
      AgentConfig c = ConfigLoader.load(config);
      return Secrets.resolve("api.auth", c.api().auth(), System.getenv());
    }
    if (etcd == null && Files.exists(dir.resolve(LocalCluster.STATE_FILE))) {
      LocalCluster local = LocalCluster.load(dir);
      String password = local.apiPassword();
      return password == null ? null : new Credentials(local.state().apiUser(), password, null, null);
    }
    return null;
  }
}
