package io.pgwarden.harness;

import io.pgwarden.harness.cluster.TestCluster;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * One real cluster per test class, stopped after the class even when a test failed; on failure the
 * agents' last log lines are printed and every log is kept under target/cluster-logs.
 */
public final class ClusterExtension implements BeforeAllCallback, AfterAllCallback, TestWatcher {
  private final int nodes;
  private final Map<String, Object> timing;
  private final Function<String, Map<String, Object>> nodeConfig;
  private TestCluster cluster;

  public ClusterExtension(int nodes) {
    this(nodes, TestCluster.TEST_TIMING);
  }

  public ClusterExtension(int nodes, Map<String, Object> timing) {
    this(nodes, timing, null);
  }

  /** @param nodeConfig extra top-level fields of each node's YAML config, by node name */
  public ClusterExtension(int nodes, Map<String, Object> timing, Function<String, Map<String, Object>> nodeConfig) {
    this.nodes = nodes;
    this.timing = timing;
    this.nodeConfig = nodeConfig;
  }

  public TestCluster get() {
    return cluster;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    cluster = TestCluster.start(nodes, timing, TestCluster.AGENT_JVM, nodeConfig);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (cluster != null) {
      cluster.saveLogs(context.getRequiredTestClass().getSimpleName());
      cluster.close();
    }
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    if (cluster == null) {
      return;
    }
    StringBuilder b = new StringBuilder("---- agent logs after failure of " + context.getDisplayName() + " ----\n");
    for (String n : cluster.nodes()) {
      b.append(cluster.tail(n, 80));
    }
    System.out.println(b);
  }

  @Override
  public void testAborted(ExtensionContext context, Throwable cause) {
    testFailed(context, cause);
  }

  @Override
  public void testSuccessful(ExtensionContext context) {}

  @Override
  public void testDisabled(ExtensionContext context, Optional<String> reason) {}
}
