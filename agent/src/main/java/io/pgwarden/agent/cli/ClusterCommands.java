package io.pgwarden.agent.cli;

import io.pgwarden.agent.Main;
import io.pgwarden.agent.loop.ClusterViewParser;
import io.pgwarden.common.json.Json;
import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.model.HistoryEntry;
import io.pgwarden.common.model.Member;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Role;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Read-only verbs: they read the scope from etcd in one range and print it. */
public final class ClusterCommands {
  private ClusterCommands() {}

  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  static ClusterView read(ClusterTarget.Connected c) {
    var raw = c.store().readPrefix(c.keys().prefix(), TIMEOUT);
    return new ClusterViewParser(c.keys()).parse(raw, DynamicConfig.DEFAULTS).view();
  }

  /**
   * The scope as the read verbs show it, after saying on {@code err} what the view leaves out: values
   * that could not be read are warned about (a table without them would look complete), and a scope with
   * no keys at all is an error (a mistyped --scope or --namespace, not an empty cluster).
   */
  static ClusterViewParser.Parsed readReporting(ClusterTarget.Connected c, PrintWriter err) {
    var raw = c.store().readPrefix(c.keys().prefix(), TIMEOUT);
    if (raw.kvs().isEmpty()) {
      throw new IllegalStateException("no cluster '" + c.scope() + "' in etcd: nothing under " + c.keys().prefix()
          + " (check --scope and --namespace)");
    }
    ClusterViewParser.Parsed p = new ClusterViewParser(c.keys()).parse(raw, DynamicConfig.DEFAULTS);
    p.view().errors().forEach(e -> err.println("warning: unreadable value in etcd, left out: " + e));
    p.ignored().forEach(e -> err.println("warning: unreadable member key bound to no lease, left out: " + e));
    if (p.configError() != null) {
      err.println("warning: the stored dynamic config is invalid (" + p.configError() + "); the agents keep their last"
          + " valid one; `pgwarden edit-config` shows it as stored and replaces it");
    }
    if (p.switchoverError() != null) {
      err.println("warning: unreadable switchover request, ignored by the agents: " + p.switchoverError());
    }
    err.flush();
    return p;
  }

  /** {@code pgwarden list}: a table like patronictl's. */
  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the members of the cluster.")
  public static final class ListCommand extends ClusterVerb {
    @Option(names = "--json", description = "Print JSON (the same as GET /cluster).")
    boolean json;

    @Option(names = {"-W", "--watch"}, paramLabel = "SECONDS",
        description = "Print again every SECONDS seconds until interrupted.")
    Integer watch;

    @Override
    void checkArguments() {
      if (watch != null && watch < 1) {
        throw new IllegalArgumentException("--watch must be at least 1 second, got " + watch);
      }
    }

    @Override
    int run(ClusterTarget.Connected c, PrintWriter out) throws InterruptedException {
      while (true) {
        if (watch != null && System.console() != null) {
          out.print("\033[H\033[2J");
        }
        print(c, out);
        if (watch == null) {
          return 0;
        }
        if (System.console() == null) {
          out.println();
        }
        out.flush();
        Thread.sleep(watch * 1000L);
      }
    }

    private void print(ClusterTarget.Connected c, PrintWriter out) {
      ClusterView v = readReporting(c, spec.commandLine().getErr()).view();
      if (json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scope", c.scope());
        m.put("leader", v.hasLeader() ? v.leader().holder() : null);
        m.put("topology", v.topology());
        m.put("paused", v.config().paused());
        m.put("switchover", v.switchover());
        List<MemberStatus> members = new ArrayList<>();
        for (Member mm : v.members().values()) {
          members.add(mm.status());
        }
        m.put("members", members);
        out.println(Json.writePretty(m));
      } else {
        out.print(table(c.scope(), v));
      }
      out.flush();
    }
  }

  static String table(String scope, ClusterView v) {
    List<String[]> rows = new ArrayList<>();
    // Like patronictl: the column appears only when some member waits for a restart.
    boolean anyPending = v.members().values().stream().anyMatch(m -> m.status().restartPending());
    rows.add(anyPending
        ? new String[] {"Member", "Host", "Role", "State", "TL", "Lag in MB", "Pending restart", "Tags"}
        : new String[] {"Member", "Host", "Role", "State", "TL", "Lag in MB", "Tags"});
    MemberStatus leader = v.hasLeader() ? v.member(v.leader().holder()) : null;
    for (Member m : v.members().values()) {
      MemberStatus s = m.status();
      String role = v.isLeader(s.name()) ? "Leader" : s.role() == Role.REPLICA ? "Replica" : s.role().json();
      String lag = "";
      if (s.role() == Role.REPLICA && leader != null && leader.lsn() != null && s.lsn() != null) {
        lag = Long.toString(Math.max(0, leader.lsn().minus(s.lsn())) / (1024 * 1024));
      }
      String state = s.role() == Role.REPLICA && s.streaming() ? "streaming" : s.state();
      String tags = tagsCell(s.tags());
      String tl = s.timeline() == null ? "" : s.timeline().toString();
      String host = s.connUrl() == null ? "" : s.connUrl();
      rows.add(anyPending
          ? new String[] {s.name(), host, role, state, tl, lag, s.restartPending() ? "*" : "", tags}
          : new String[] {s.name(), host, role, state, tl, lag, tags});
    }
    int[] w = new int[rows.get(0).length];
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        w[i] = Math.max(w[i], r[i].length());
      }
    }
    StringBuilder b = new StringBuilder();
    String title = "Cluster: " + scope + (v.topology() == null ? "" : " (term " + v.topology().term() + ")")
        + (v.config().paused() ? " [maintenance mode: paused]" : "");
    b.append("+ ").append(title).append('\n');
    String sep = sep(w);
    b.append(sep);
    for (int r = 0; r < rows.size(); r++) {
      b.append('|');
      for (int i = 0; i < w.length; i++) {
        b.append(' ').append(pad(rows.get(r)[i], w[i])).append(" |");
      }
      b.append('\n');
      if (r == 0) {
        b.append(sep);
      }
    }
    b.append(sep);
    if (v.switchover() != null) {
      b.append(pendingSwitchover(v.switchover())).append('\n');
    }
    for (Member m : v.members().values()) {
      if (m.status().parameterErrors() != null) {
        m.status().parameterErrors().forEach((name, why) -> b.append(' ').append(m.status().name())
            .append(": parameter ").append(name).append(" = ").append(why).append('\n'));
      }
    }
    return b.toString();
  }

  /** The line under the table while a switchover or failover waits in {@code /switchover}. */
  static String pendingSwitchover(io.pgwarden.common.model.Switchover sw) {
    return (sw.force() ? " Failover" : " Switchover") + (sw.scheduledAt() == null ? " pending" : " scheduled")
        + (sw.from() == null ? "" : " from " + sw.from())
        + " to " + (sw.to() == null ? "the healthiest replica" : sw.to())
        + (sw.scheduledAt() == null ? "" : " at " + sw.scheduledAt())
        + " (cancel: pgwarden switchover --cancel)";
  }

  private static String sep(int[] w) {
    StringBuilder b = new StringBuilder("+");
    for (int x : w) {
      b.append("-".repeat(x + 2)).append('+');
    }
    return b.append('\n').toString();
  }

  private static String pad(String s, int n) {
    return s + " ".repeat(n - s.length());
  }

  /** A verb that reads the scope once and prints part of it. */
  abstract static class ReadCommand extends ClusterVerb {
    abstract void print(ClusterView v, PrintWriter out) throws Exception;

    /** Whether what this verb prints comes from /config, so that an invalid /config leaves it nothing true to print. */
    boolean printsConfig() {
      return false;
    }

    @Override
    int run(ClusterTarget.Connected c, PrintWriter out) throws Exception {
      ClusterViewParser.Parsed p = readReporting(c, spec.commandLine().getErr());
      if (p.configError() != null && printsConfig()) {
        // What the view holds then is the defaults, which no agent uses: printing them would mislead.
        return 1;
      }
      print(p.view(), out);
      return 0;
    }
  }

  /** {@code pgwarden topology}: the desired state the lock holder wrote. */
  @Command(name = "topology", mixinStandardHelpOptions = true, description = "Show the desired topology (term, primary, sync standbys).")
  public static final class TopologyCommand extends ReadCommand {
    @Override
    void print(ClusterView v, PrintWriter out) {
      out.println(v.topology() == null ? "no topology yet" : Json.writePretty(v.topology()));
    }
  }

  /** {@code pgwarden history}: every change of primary. */
  @Command(name = "history", mixinStandardHelpOptions = true, description = "Show failovers and switchovers.")
  public static final class HistoryCommand extends ReadCommand {
    @Override
    void print(ClusterView v, PrintWriter out) {
      out.printf("%-5s %-10s %-10s %-10s %-4s %-14s %s%n", "Term", "Kind", "From", "To", "TL", "Switch LSN", "At");
      for (HistoryEntry h : v.history()) {
        out.printf("%-5d %-10s %-10s %-10s %-4d %-14s %s%n", h.term(), h.kind(), h.from() == null ? "" : h.from(),
            h.to(), h.timeline(), h.switchLsn() == null ? "" : h.switchLsn().toString(), h.at() == null ? "" : h.at());
      }
    }
  }

  /** {@code pgwarden show-config}: the dynamic config in effect. */
  @Command(name = "show-config", mixinStandardHelpOptions = true, description = "Show the dynamic configuration.")
  public static final class ShowConfigCommand extends ReadCommand {
    @Override
    boolean printsConfig() {
      return true;
    }

    @Override
    void print(ClusterView v, PrintWriter out) throws Exception {
      out.print(Json.YAML.writeValueAsString(v.config()));
    }
  }

  @Command(name = "version", description = "Print the version.")
  public static final class VersionCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      spec.commandLine().getOut().println("pgwarden " + Main.version());
      return 0;
    }
  }

  /** What sets a member apart: the flags that are on, a failover priority other than 1, the operator's own tags. */
  static String tagsCell(io.pgwarden.common.model.Tags t) {
    List<String> out = new ArrayList<>();
    if (t.nofailover()) {
      out.add("nofailover");
    }
    if (t.noloadbalance()) {
      out.add("noloadbalance");
    }
    if (t.nosync()) {
      out.add("nosync");
    }
    if (t.failoverPriority() != 1) {
      out.add("failover_priority=" + t.failoverPriority());
    }
    t.custom().forEach((k, v) -> out.add(k + "=" + v));
    return String.join(" ", out);
  }
}
