package io.pgwarden.harness.bench;

import io.pgwarden.agent.Main;
import io.pgwarden.agent.local.LocalCluster;
import io.pgwarden.common.config.Keys;
import io.pgwarden.harness.cluster.TestCluster;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** pgwarden through {@link TestCluster} (LocalCluster, the agents' launcher JVM options). */
public final class PgwardenCluster implements BenchCluster {
  private final TestCluster c;

  private PgwardenCluster(TestCluster c) {
    this.c = c;
  }

  /** With the class-data sharing archive, as bin/pgwarden starts agents. */
  public static PgwardenCluster start(Map<String, Object> dynamic) {
    return start(dynamic, TestCluster.AGENT_JVM);
  }

  public static PgwardenCluster start(Map<String, Object> dynamic, List<String> jvmArgs) {
    return new PgwardenCluster(TestCluster.start(3, dynamic, jvmArgs, null, true));
  }

  /** Making the class-data sharing archive, which bin/pgwarden does once per install. */
  @Override
  public java.time.Duration oneOffSetup() {
    return c.local().archiveTime();
  }

  public TestCluster cluster() {
    return c;
  }

  @Override
  public String tool() {
    return "pgwarden";
  }

  @Override
  public List<String> nodes() {
    return c.nodes();
  }

  @Override
  public Optional<String> leader() {
    return c.leader();
  }

  @Override
  public String leaderKey() {
    LocalCluster.State s = c.local().state();
    return new Keys(s.namespace(), s.scope()).leader();
  }

  @Override
  public Connection connect(String node) throws SQLException {
    return c.connect(node);
  }

  @Override
  public Connection connectPrimary() throws SQLException {
    return c.connectPrimary();
  }

  @Override
  public boolean ready() {
    return c.healthy();
  }

  @Override
  public boolean synchronous() {
    var v = c.view();
    return v != null && v.config().synchronousMode() != io.pgwarden.common.model.SynchronousMode.OFF;
  }

  @Override
  public void powerOff(String node) {
    c.powerOff(node);
  }

  @Override
  public void restart(String node) {
    c.startAgent(node);
  }

  @Override
  public String switchoverTarget(String leader) {
    var v = c.view();
    if (v != null && v.topology() != null && !v.topology().syncStandbys().isEmpty()) {
      return v.topology().syncStandbys().get(0);
    }
    return nodes().stream().filter(n -> !n.equals(leader)).findFirst().orElseThrow();
  }

  @Override
  public void switchover(String from, String to) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int rc = Main.run(new PrintWriter(out, true), new PrintWriter(err, true),
        "switchover", "--dir", c.local().dir().toString(), "--to", to, "--force");
    if (rc != 0) {
      throw new IllegalStateException("pgwarden switchover exited " + rc + ": " + out + err);
    }
  }

  /** {@code pgwarden set-config KEY=VALUE ...} (dynamic config in etcd; agents pick it up on their next loop). */
  public void setConfig(String... settings) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    String[] argv = new String[settings.length + 3];
    argv[0] = "set-config";
    argv[1] = "--dir";
    argv[2] = c.local().dir().toString();
    System.arraycopy(settings, 0, argv, 3, settings.length);
    int rc = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), argv);
    if (rc != 0) {
      throw new IllegalStateException("pgwarden set-config exited " + rc + ": " + out + err);
    }
  }

  @Override
  public long agentPid(String node) {
    return c.local().node(node).agentPid();
  }

  @Override
  public List<String> etcdEndpoints() {
    return c.local().state().etcdEndpoints();
  }

  @Override
  public String agentLog(String node) {
    return c.agentLog(node);
  }

  @Override
  public boolean logShowsRewind(String log) {
    return log.contains("rewinding from") || log.contains("pg_rewind done");
  }

  @Override
  public boolean logShowsBaseBackup(String log) {
    return log.contains("creating replica") || log.contains("pg_basebackup from");
  }

  @Override
  public void saveLogs(Path dir) {
    try {
      java.nio.file.Files.createDirectories(dir);
      for (String n : nodes()) {
        java.nio.file.Files.writeString(dir.resolve(n + "-agent.log"), c.agentLog(n));
        // The server's own log (PostgresNode writes it beside the data directory): shutdown, promotion and
        // checkpoint times to line up with the agent's decisions.
        Path serverLog = Path.of(c.local().node(n).dataDir() + ".log");
        if (java.nio.file.Files.exists(serverLog)) {
          java.nio.file.Files.copy(serverLog, dir.resolve(n + "-postgresql.log"),
              java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      System.err.println("could not save logs: " + e);
    }
  }

  @Override
  public void close() {
    c.close();
  }
}
