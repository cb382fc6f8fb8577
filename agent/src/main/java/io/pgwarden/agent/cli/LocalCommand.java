package io.pgwarden.agent.cli;

import io.pgwarden.agent.Main;
import io.pgwarden.agent.local.LocalCluster;
import io.pgwarden.agent.local.LocalCluster.NodeState;
import io.pgwarden.agent.local.Processes;
import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Role;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code pgwarden local ...}: etcd plus N nodes on loopback, for trying pgwarden out and for tests. */
@Command(name = "local", mixinStandardHelpOptions = true,
    description = "Run a whole cluster on this machine (etcd + N PostgreSQL nodes on loopback).",
    subcommands = {LocalCommand.Up.class, LocalCommand.Down.class, LocalCommand.Status.class,
        LocalCommand.Kill.class, LocalCommand.Start.class})
public final class LocalCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing subcommand: up, down, status, kill or start");
  }

  abstract static class DirOption {
    @Option(names = {"-d", "--dir"}, description = "State folder (default: ${DEFAULT-VALUE}).",
        defaultValue = "${sys:java.io.tmpdir}/pgwarden-local")
    Path dir;

    @Spec CommandSpec spec;

    PrintWriter out() {
      return spec.commandLine().getOut();
    }
  }

  @Command(name = "up", mixinStandardHelpOptions = true, description = "Start etcd and N nodes in the background.")
  static final class Up extends DirOption implements Callable<Integer> {
    @Option(names = "--nodes", defaultValue = "3", description = "Number of PostgreSQL nodes (default ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--scope", defaultValue = "main", description = "Cluster name (default ${DEFAULT-VALUE}).")
    String scope;

    @Option(names = "--bin-dir", defaultValue = LocalCluster.DEFAULT_BIN_DIR, description = "PostgreSQL binaries.")
    String binDir;

    @Option(names = "--ttl", description = "Leader lease TTL in seconds (dynamic config).")
    Integer ttl;

    @Option(names = "--loop-wait", description = "Seconds between loops (dynamic config).")
    Integer loopWait;

    @Option(names = "--retry-timeout", description = "Seconds an etcd or PostgreSQL call may take (dynamic config).")
    Integer retryTimeout;

    @Option(names = "--wait", defaultValue = "180", description = "Seconds to wait for a primary and streaming replicas (0: don't wait).")
    int waitSeconds;

    @Override
    public Integer call() throws Exception {
      boolean again = LocalCluster.isStopped(dir);
      if (again) {
        // The stopped cluster keeps its nodes, scope and the dynamic config in its etcd; an option that would
        // change them must not look as if it had.
        List<String> given = new ArrayList<>();
        for (String name : List.of("--nodes", "--scope", "--ttl", "--loop-wait", "--retry-timeout")) {
          if (spec.commandLine().getParseResult().hasMatchedOption(name)) {
            given.add(name);
          }
        }
        if (!given.isEmpty()) {
          throw new picocli.CommandLine.ParameterException(spec.commandLine(), dir.toAbsolutePath()
              + " holds a stopped cluster, which `local up` starts again as it was: " + String.join(", ", given)
              + " cannot change it (the dynamic config: `pgwarden set-config` once it runs); leave "
              + (given.size() == 1 ? "it" : "them") + " out, or delete the folder for a new cluster");
        }
      }
      Map<String, Object> dynamic = new LinkedHashMap<>();
      if (ttl != null) {
        dynamic.put("ttl", ttl);
      }
      if (loopWait != null) {
        dynamic.put("loop_wait", loopWait);
      }
      if (retryTimeout != null) {
        dynamic.put("retry_timeout", retryTimeout);
      }
      if (!dynamic.isEmpty()) {
        // Validate before starting anything, with the same rules the agents apply; a bad argument, so exit 2,
        // and no line and column: there is no text the operator wrote.
        try {
          io.pgwarden.common.config.ConfigLoader.parseDynamic(io.pgwarden.common.json.Json.LENIENT.valueToTree(dynamic));
        } catch (io.pgwarden.common.config.ConfigException e) {
          throw new IllegalArgumentException("--ttl/--loop-wait/--retry-timeout: " + e.getMessage(), e);
        }
      }
      LocalCluster c = LocalCluster.up(new LocalCluster.Options(dir, nodes, scope, ownJar(), dynamic,
          io.pgwarden.agent.local.AgentJvm.options(),
          1, binDir, null, true));
      out().println("local cluster '" + c.state().scope() + "' starting " + (again ? "again (its data, passwords"
          + " and ports as before) " : "") + "in " + c.dir());
      out().flush();
      if (waitSeconds > 0) {
        LocalStatus.awaitHealthy(c, Duration.ofSeconds(waitSeconds), out());
      }
      LocalStatus.print(c, out());
      return 0;
    }
  }

  @Command(name = "down", mixinStandardHelpOptions = true, description = "Stop everything the local cluster started (data stays).")
  static final class Down extends DirOption implements Callable<Integer> {
    @Override
    public Integer call() {
      LocalCluster c = LocalCluster.load(dir);
      c.down();
      out().println("local cluster in " + c.dir() + " stopped; data kept in " + c.dir() + " (`pgwarden local up --dir "
          + c.dir() + "` starts it again)");
      return 0;
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true, description = "Show the local cluster.")
  static final class Status extends DirOption implements Callable<Integer> {
    @Override
    public Integer call() {
      LocalStatus.print(LocalCluster.load(dir), out());
      return 0;
    }
  }

  @Command(name = "kill", mixinStandardHelpOptions = true, description = "Power a node off: SIGKILL its agent and postmaster.")
  static final class Kill extends DirOption implements Callable<Integer> {
    @Parameters(paramLabel = "NAME", description = "The node, e.g. node1.")
    String name;

    @Override
    public Integer call() {
      LocalCluster c = LocalCluster.load(dir);
      NodeState n = c.node(name);
      var pm = c.postmasterPid(name);
      c.powerOff(name);
      out().println("killed " + name + ": agent pid " + n.agentPid() + pm.map(p -> ", postmaster pid " + p).orElse(""));
      return 0;
    }
  }

  @Command(name = "start", mixinStandardHelpOptions = true, description = "Start a node's agent again (it starts PostgreSQL).")
  static final class Start extends DirOption implements Callable<Integer> {
    @Parameters(paramLabel = "NAME", description = "The node, e.g. node1.")
    String name;

    @Override
    public Integer call() {
      LocalCluster c = LocalCluster.load(dir);
      c.startAgent(name);
      out().println("started " + name + "'s agent (pid " + c.node(name).agentPid() + ")");
      return 0;
    }
  }

  static Path ownJar() throws URISyntaxException {
    Path p = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException("pgwarden local must run from the pgwarden jar (found " + p + "); use bin/pgwarden");
    }
    return p;
  }

  /** Helpers shared by up and status. */
  static final class LocalStatus {
    private LocalStatus() {}

    static void awaitHealthy(LocalCluster c, Duration bound, PrintWriter out) throws InterruptedException {
      long deadline = System.nanoTime() + bound.toNanos();
      String last = "";
      while (System.nanoTime() < deadline) {
        String now = summary(c);
        if (!now.equals(last)) {
          out.println("  " + now);
          out.flush();
          last = now;
        }
        if (now.startsWith("healthy")) {
          return;
        }
        Thread.sleep(1000);
      }
      out.println("  not healthy after " + bound.toSeconds() + " s; see the agent logs under " + c.dir());
    }

    private static String summary(LocalCluster c) {
      ClusterView v = view(c);
      if (v == null) {
        return "etcd not answering yet";
      }
      if (!v.hasLeader()) {
        return "no leader yet (" + v.members().size() + " members published)";
      }
      long streaming = v.members().values().stream()
          .filter(m -> m.status().role() == Role.REPLICA && m.status().streaming()).count();
      MemberStatus l = v.member(v.leader().holder());
      boolean primary = l != null && l.role() == Role.PRIMARY;
      int want = c.state().nodes().size() - 1;
      // In synchronous mode only a recorded synchronous standby may take over: until there is one, a
      // failover would (rightly) not happen, so the cluster is not ready yet.
      boolean syncReady = want == 0 || v.config().synchronousMode() == io.pgwarden.common.model.SynchronousMode.OFF
          || (v.topology() != null && !v.topology().syncStandbys().isEmpty());
      return (primary && streaming == want && syncReady ? "healthy: " : "starting: ") + "leader " + v.leader().holder()
          + ", " + streaming + "/" + want + " replicas streaming"
          + (syncReady || want == 0 ? "" : ", no synchronous standby yet")
          + (v.topology() == null || v.topology().syncStandbys().isEmpty() ? ""
              : ", synchronous standby " + String.join(",", v.topology().syncStandbys()));
    }

    static ClusterView view(LocalCluster c) {
      var target = new ClusterTarget();
      target.dir = c.dir();
      try {
        ClusterTarget.Connected conn = target.connect();
        try (var store = conn.store()) {
          return ClusterCommands.read(conn);
        }
      } catch (RuntimeException e) {
        return null;
      }
    }

    static void print(LocalCluster c, PrintWriter out) {
      LocalCluster.State s = c.state();
      ClusterView v = view(c);
      if (v != null) {
        out.print(ClusterCommands.table(s.scope(), v));
      } else {
        out.println("etcd at " + s.etcdEndpoints() + " is not answering");
      }
      out.println();
      for (NodeState n : s.nodes()) {
        out.printf("%-6s agent pid %-7s %-8s REST %s  postgres 127.0.0.1:%d  log %s%n", n.name(), n.agentPid(),
            Processes.isAlive(n.agentPid()) ? "running" : "stopped", n.apiUrl(), n.pgPort(), n.logFile());
      }
      out.println();
      out.println("connect:  psql \"" + c.connectionString() + "\"   (password in " + s.superuserPasswordFile() + ")");
      out.println("leader:   " + c.etcdctlLeaderCommand());
      if (s.apiPasswordFile() != null) {
        out.println("rest api: changing calls need user " + s.apiUser() + ", password in " + s.apiPasswordFile()
            + " (pgwarden restart|reload|reinit NAME find it)");
      }
      out.println("failover: pgwarden local kill <node>   then   pgwarden local start <node>");
      out.flush();
    }
  }
}
