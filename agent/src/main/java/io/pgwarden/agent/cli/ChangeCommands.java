package io.pgwarden.agent.cli;

import io.pgwarden.agent.api.BasicAuth;
import io.pgwarden.agent.api.PemTls;
import io.pgwarden.agent.ops.ConfigEdits;
import io.pgwarden.agent.ops.Switchovers;
import io.pgwarden.agent.port.RawKv;
import io.pgwarden.common.config.Credentials;
import io.pgwarden.common.json.Json;
import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Switchover;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Verbs that change the cluster: through etcd ({@code /switchover}, {@code /config}) or an agent's REST API. */
public final class ChangeCommands {
  private ChangeCommands() {}

  private static final Logger log = LoggerFactory.getLogger(ChangeCommands.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  /** Reads y/yes from stdin; anything else, or no input at all, is a no. */
  static boolean confirm(PrintWriter out, String question) {
    out.print(question + " [y/N] ");
    out.flush();
    try {
      String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
      return line != null && (line.trim().equalsIgnoreCase("y") || line.trim().equalsIgnoreCase("yes"));
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Polls until the leader key names someone other than {@code from}, or the request vanished
   * without that (an agent refused it), or {@code bound} passed. Returns the exit code.
   */
  static int awaitNewLeader(ClusterTarget.Connected c, String from, Duration bound, PrintWriter out)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(bound);
    boolean requestSeenGone = false;
    while (Instant.now().isBefore(deadline)) {
      ClusterView v = ClusterCommands.read(c);
      String leader = v.hasLeader() ? v.leader().holder() : null;
      if (leader != null && !leader.equals(from)) {
        out.println("done: " + leader + " is the leader now");
        out.flush();
        return 0;
      }
      boolean pending = Switchovers.pending(c.store(), c.keys(), TIMEOUT) != null;
      if (!pending && leader != null && leader.equals(from)) {
        // Seen twice so that the moment between the new leader clearing the key and taking the
        // leader key is not read as a refusal.
        if (requestSeenGone) {
          out.println("not carried out: the request was withdrawn and " + from
              + " is still the leader (see the agents' logs)");
          out.flush();
          return 1;
        }
        requestSeenGone = true;
      }
      out.flush();
      Thread.sleep(500);
    }
    out.println("no change of leader within " + bound.toSeconds() + " s; the request may still be pending "
        + "(see `pgwarden list`, cancel with `pgwarden switchover --cancel`)");
    out.flush();
    return 1;
  }

  /** {@code pgwarden switchover}: a planned change of primary, carried out by the agents. */
  @Command(name = "switchover", mixinStandardHelpOptions = true,
      description = "Hand the primary role over to a replica (planned, no data loss), now or at a given time.")
  public static final class SwitchoverCommand extends ClusterVerb {
    @Option(names = {"--leader", "--from"}, paramLabel = "NAME", description = "The current leader (checked).")
    String from;

    @Option(names = {"--to", "--candidate"}, paramLabel = "NAME",
        description = "The replica to hand over to (default: the healthiest).")
    String to;

    @Option(names = "--at", paramLabel = "TIME", description = "\"now\" (default) or an ISO-8601 time.")
    String at;

    @Option(names = "--force", description = "Do not ask for confirmation.")
    boolean force;

    @Option(names = "--cancel", description = "Cancel the pending switchover.")
    boolean cancel;

    @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "60",
        description = "How long to wait for the new leader (default ${DEFAULT-VALUE}; 0: don't wait).")
    int waitSeconds;

    @Override
    void checkArguments() {
      if (cancel && (from != null || to != null || at != null)) {
        throw new IllegalArgumentException("--cancel takes no --from, --to or --at");
      }
      checkWait(waitSeconds);
    }

    @Override
    int run(ClusterTarget.Connected c, PrintWriter out) throws Exception {
      if (cancel) {
        String pending = Switchovers.pending(c.store(), c.keys(), TIMEOUT);
        if (pending == null || !c.store().deleteIfValue(c.keys().switchover(), pending, TIMEOUT)) {
          out.println("no switchover is pending");
          return 1;
        }
        log.info("cancelled the pending switchover {}", pending);
        out.println("cancelled: " + pending);
        return 0;
      }
      ClusterView v = ClusterCommands.read(c);
      Switchover s = Switchovers.plan(v, from, to, at, false, false);
      String what = "switch over from " + s.from() + " to " + (s.to() == null ? "the healthiest replica" : s.to())
          + (s.scheduledAt() == null ? " now" : " at " + s.scheduledAt());
      if (!force && !confirm(out, "Are you sure you want to " + what + "?")) {
        out.println("aborted; nothing changed");
        return 1;
      }
      return submitAndWait(c, s, what, waitSeconds, out);
    }
  }

  private static void checkWait(int waitSeconds) {
    if (waitSeconds < 0) {
      throw new IllegalArgumentException("--wait must be 0 (don't wait) or more seconds, got " + waitSeconds);
    }
  }

  static int submitAndWait(ClusterTarget.Connected c, Switchover s, String what, int waitSeconds, PrintWriter out)
      throws InterruptedException {
    if (!Switchovers.submit(c.store(), c.keys(), s, TIMEOUT)) {
      String pending = Switchovers.pending(c.store(), c.keys(), TIMEOUT);
      throw new IllegalStateException("a switchover is already pending: " + pending
          + "; cancel it first with `pgwarden switchover --cancel`");
    }
    log.info("requested: {} ({})", what, Json.write(s));
    out.println("requested: " + what);
    out.flush();
    boolean later = s.scheduledAt() != null && Instant.parse(s.scheduledAt()).isAfter(Instant.now());
    if (later || waitSeconds <= 0) {
      return 0;
    }
    return awaitNewLeader(c, s.from(), Duration.ofSeconds(waitSeconds), out);
  }

  /** {@code pgwarden failover --to NAME}: promote a named member even without a healthy primary. */
  @Command(name = "failover", mixinStandardHelpOptions = true,
      description = "Promote the named member now, even if the primary is gone (forced).")
  public static final class FailoverCommand extends ClusterVerb {
    // Checked in checkArguments, not by picocli, whose message would name the longest of the two: --candidate is
    // Patroni's name for it, --to the one the usage shows.
    @Option(names = {"--to", "--candidate"}, paramLabel = "NAME", description = "The member to promote (required).")
    String to;

    @Option(names = "--force", description = "Do not ask for confirmation.")
    boolean force;

    @Option(names = "--allow-data-loss",
        description = "Promote it even if it may lack acknowledged writes (recorded in history).")
    boolean allowDataLoss;

    @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "60",
        description = "How long to wait for the new leader (default ${DEFAULT-VALUE}; 0: don't wait).")
    int waitSeconds;

    @Override
    void checkArguments() {
      if (to == null) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
            "Missing required option: '--to=NAME' (the member to promote)");
      }
      checkWait(waitSeconds);
    }

    @Override
    int run(ClusterTarget.Connected c, PrintWriter out) throws Exception {
      ClusterView v = ClusterCommands.read(c);
      Switchover s = Switchovers.plan(v, null, to, null, true, allowDataLoss);
      String what = "fail over to " + to + (s.from() == null ? "" : " (from " + s.from() + ")")
          + (allowDataLoss ? ", accepting the loss of acknowledged writes" : "");
      if (!force && !confirm(out, "Are you sure you want to " + what + "?")) {
        out.println("aborted; nothing changed");
        return 1;
      }
      return submitAndWait(c, s, what, waitSeconds, out);
    }
  }

  /**
   * {@code pgwarden remove --confirm SCOPE}: deletes a stopped cluster's keys, so that the scope can be
   * bootstrapped anew (its /initialize would otherwise name the old system identifier, and agents over fresh
   * data directories would wait for a leader to clone from forever). Refused while any key is bound to a
   * lease: a running agent would write its keys again, and one that found /initialize gone could bootstrap
   * a second cluster beside data it no longer knows about.
   */
  @Command(name = "remove", mixinStandardHelpOptions = true,
      description = "Delete a stopped cluster's keys from etcd (config, history, system identifier), so its "
          + "name can be used for a new cluster. Every agent must be stopped; data directories are not touched.")
  public static final class RemoveCommand extends ClusterVerb {
    @Option(names = "--confirm", paramLabel = "SCOPE", description = "The cluster's name again; nothing is removed "
        + "without it.")
    String confirm;

    @Override
    int run(ClusterTarget.Connected c, PrintWriter out) {
      if (!c.scope().equals(confirm)) {
        throw new IllegalArgumentException("removing cluster " + c.scope() + " deletes its config, history and system"
            + " identifier from etcd; give --confirm " + c.scope() + " to do it");
      }
      io.pgwarden.agent.port.RawScope raw = c.store().readPrefix(c.keys().prefix(), TIMEOUT);
      List<String> live = boundToALease(raw, c.keys().prefix());
      if (!live.isEmpty()) {
        throw new IllegalStateException("cluster " + c.scope() + " still has running agents (keys bound to a lease: "
            + String.join(", ", live) + "); stop every agent first, then wait a ttl for their keys to expire");
      }
      if (raw.kvs().isEmpty()) {
        out.println("cluster " + c.scope() + " has no keys under " + c.keys().prefix() + "; nothing to remove");
        return 0;
      }
      long n = c.store().deletePrefix(c.keys().prefix(), TIMEOUT);
      log.info("cluster {} removed: {} keys under {}", c.scope(), n, c.keys().prefix());
      out.println("removed cluster " + c.scope() + ": " + n + " keys under " + c.keys().prefix() + ". Its data"
          + " directories are untouched; a new cluster of this name needs empty ones.");
      return 0;
    }
  }

  /** The keys of {@code raw} bound to a lease (written by a running agent), without {@code prefix}, sorted. */
  static List<String> boundToALease(io.pgwarden.agent.port.RawScope raw, String prefix) {
    List<String> out = new ArrayList<>();
    for (RawKv kv : raw.kvs()) {
      if (kv.lease() != 0) {
        out.add(kv.key().startsWith(prefix) ? kv.key().substring(prefix.length()) : kv.key());
      }
    }
    out.sort(null);
    return out;
  }

  /** {@code pgwarden pause} / {@code resume}: maintenance mode through {@code pause} in /config. */
  abstract static class PauseBase extends ClusterVerb {
    abstract boolean pause();

    @Override
    int run(ClusterTarget.Connected c, PrintWriter out) {
      ConfigEdits.Current cur = ConfigEdits.read(c.store(), c.keys(), TIMEOUT);
      if (cur.config().paused() == pause()) {
        out.println(pause() ? "the cluster is already paused" : "the cluster is not paused");
        return 0;
      }
      ConfigEdits.update(c.store(), c.keys(), cfg -> ConfigEdits.withPause(cfg, pause()), TIMEOUT);
      log.info("cluster {} {}", c.scope(), pause() ? "paused" : "resumed");
      out.println(pause()
          ? "paused: the agents keep PostgreSQL as it is and take no automatic action until `pgwarden resume`"
          : "resumed: automatic failover is back on");
      return 0;
    }
  }

  @Command(name = "pause", mixinStandardHelpOptions = true,
      description = "Maintenance mode: agents keep PostgreSQL as it is and do not fail over.")
  public static final class PauseCommand extends PauseBase {
    @Override
    boolean pause() {
      return true;
    }
  }

  @Command(name = "resume", mixinStandardHelpOptions = true, description = "Leave maintenance mode.")
  public static final class ResumeCommand extends PauseBase {
    @Override
    boolean pause() {
      return false;
    }
  }

  /** {@code pgwarden set-config KEY=VALUE ...}. */
  @Command(name = "set-config", mixinStandardHelpOptions = true,
      description = "Change dynamic settings: ttl, loop_wait, retry_timeout, maximum_lag_on_failover, "
          + "synchronous_mode, synchronous_node_count, pause, parameters.NAME (VALUE null resets).")
  public static final class SetConfigCommand extends ClusterVerb {
    @Parameters(arity = "1..*", paramLabel = "KEY=VALUE")
    List<String> settings = new ArrayList<>();

    @Override
    void checkArguments() {
      ConfigEdits.checkSyntax(settings);
    }

    @Override
    int run(ClusterTarget.Connected c, PrintWriter out) {
      DynamicConfig before = ConfigEdits.read(c.store(), c.keys(), TIMEOUT).config();
      DynamicConfig after = ConfigEdits.update(c.store(), c.keys(), cfg -> ConfigEdits.apply(cfg, settings), TIMEOUT);
      String diff = ConfigEdits.diff(ConfigEdits.yaml(before), ConfigEdits.yaml(after));
      log.info("set-config {}", settings.stream().map(s -> s.substring(0, s.indexOf('='))).toList());
      out.print(diff.isEmpty() ? "no change\n" : diff);
      return 0;
    }
  }

  /** {@code pgwarden edit-config}: $EDITOR on the YAML, validated, diffed, compare-and-swapped. */
  @Command(name = "edit-config", mixinStandardHelpOptions = true,
      description = "Edit the dynamic configuration in $EDITOR; applied only if nobody changed it meanwhile.")
  public static final class EditConfigCommand extends ClusterVerb {
    @Option(names = "--editor", paramLabel = "COMMAND",
        description = "Editor command, given the file as last argument (default: $VISUAL, $EDITOR, vi).")
    String editor;

    @Option(names = "--force", description = "Apply without asking.")
    boolean force;

    @Override
    int run(ClusterTarget.Connected c, PrintWriter out) throws Exception {
      String before;
      long modRevision;
      try {
        ConfigEdits.Current cur = ConfigEdits.read(c.store(), c.keys(), TIMEOUT);
        before = ConfigEdits.yaml(cur.config());
        modRevision = cur.modRevision();
      } catch (IllegalArgumentException invalid) {
        // The one verb that can repair it: the stored text as it is (JSON is YAML), under the reason.
        RawKv raw = c.store().get(c.keys().config(), TIMEOUT);
        if (raw == null) {
          throw invalid; // deleted meanwhile: nothing to repair, and the defaults apply
        }
        before = "# " + invalid.getMessage().replace("\n", " ") + "\n# Fix it below; it is checked before it is written.\n"
            + raw.value() + "\n";
        modRevision = raw.modRevision();
        out.println(c.keys().config() + " is invalid now; the editor shows it as stored");
      }
      Path file = Files.createTempFile("pgwarden-config-", ".yaml");
      try {
        Files.writeString(file, before);
        runEditor(file);
        DynamicConfig edited = ConfigEdits.parseEdited(Files.readString(file));
        String diff = ConfigEdits.diff(before, ConfigEdits.yaml(edited));
        if (diff.isEmpty()) {
          out.println("no change");
          return 0;
        }
        out.print(diff);
        if (!force && !confirm(out, "Apply these changes?")) {
          out.println("aborted; nothing changed");
          return 1;
        }
        if (!ConfigEdits.write(c.store(), c.keys(), edited, modRevision, TIMEOUT)) {
          out.println("not applied: " + c.keys().config() + " changed while you were editing; "
              + "run edit-config again to see the new version");
          return 1;
        }
        log.info("edit-config applied to {}", c.keys().config());
        out.println("applied");
        return 0;
      } finally {
        Files.deleteIfExists(file);
      }
    }

    private void runEditor(Path file) throws IOException, InterruptedException {
      String cmd = editor;
      if (cmd == null) {
        cmd = System.getenv("VISUAL");
      }
      if (cmd == null) {
        cmd = System.getenv("EDITOR");
      }
      if (cmd == null) {
        cmd = "vi";
      }
      // An argument list, not a shell string: "code --wait" works, no shell quoting surprises.
      List<String> argv = new ArrayList<>(List.of(cmd.trim().split("\\s+")));
      argv.add(file.toString());
      int rc = new ProcessBuilder(argv).inheritIO().start().waitFor();
      if (rc != 0) {
        throw new IllegalStateException("the editor (" + argv.get(0) + ") exited with " + rc + "; nothing changed");
      }
    }
  }

  /** restart / reload / reinit: POSTed to the member's own agent, which carries it out in its loop. */
  abstract static class MemberRequest extends ClusterVerb {

    @Option(names = "--api-user", description = "REST API user (default: from --config's api.auth or the local cluster).")
    String apiUser;

    @Option(names = "--api-password", description = "REST API password (prefer --config or PGWARDEN_API_PASSWORD).")
    String apiPassword;

    @Option(names = "--api-cacert", paramLabel = "FILE",
        description = "CA certificates (PEM) to verify an agent's HTTPS REST API with (default: the JDK's).")
    Path apiCacert;

    @Option(names = "--api-cert", paramLabel = "FILE",
        description = "Client certificate (PEM) for agents with api.tls.client_ca; authenticates without a password.")
    Path apiCert;

    @Option(names = "--api-key", paramLabel = "FILE", description = "The client certificate's key (PEM, PKCS#8).")
    Path apiKey;

    abstract String path();

    /** The member named on the command line. */
    abstract String name();

    /** The request's JSON body; empty for none. */
    String body() {
      return "";
    }

    boolean needsConfirmation() {
      return false;
    }

    boolean force() {
      return false;
    }

    @Override
    int run(ClusterTarget.Connected c, PrintWriter out) throws Exception {
      return run(c, ClusterCommands.read(c), out);
    }

    /** The request to the named member, with the cluster as just read. */
    int run(ClusterTarget.Connected c, ClusterView v, PrintWriter out) throws Exception {
      String name = name();
      MemberStatus m = v.member(name);
      if (m == null) {
        throw new IllegalArgumentException(name + " is not a member of cluster " + c.scope());
      }
      if (needsConfirmation() && !force() && !confirm(out, "Are you sure you want to " + path() + " " + name + "?")) {
        out.println("aborted; nothing changed");
        return 1;
      }
      return send(m, out);
    }

    /** Sends this request to {@code m}'s agent; returns the exit code. */
    int send(MemberStatus m, PrintWriter out) throws Exception {
      String name = m.name();
      if (m.apiUrl() == null) {
        throw new IllegalStateException(name + " publishes no api_url");
      }
      Credentials cred = credentials();
      String body = body();
      HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(m.apiUrl() + "/" + path()))
          .timeout(Duration.ofSeconds(10))
          .POST(body.isEmpty() ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
      if (cred != null) {
        req.header("Authorization", BasicAuth.header(cred.username(), cred.password()));
      }
      HttpResponse<String> resp = httpClient().send(req.build(), HttpResponse.BodyHandlers.ofString());
      int code = resp.statusCode();
      if (code == 202 || code == 200) {
        log.info("{} of {} accepted", path(), name);
        out.println(path() + " of " + name + " accepted; its agent carries it out in its next loop");
        return 0;
      }
      String why = switch (code) {
        case 401 -> "wrong or missing REST API credentials (give --api-user/--api-password or --config, or a "
            + "client certificate with --api-cert/--api-key)";
        case 403 -> "the agent has no api.auth or api.tls.client_ca configured, so it accepts no changing calls";
        case 409 -> "another request is still pending on " + name;
        case 503 -> "its agent answered: " + resp.body();
        default -> "HTTP " + code;
      };
      out.println(path() + " of " + name + " refused: " + why);
      return 1;
    }

    private HttpClient httpClient() {
      if ((apiCert == null) != (apiKey == null)) {
        throw new IllegalArgumentException("--api-cert and --api-key go together");
      }
      HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
      if (apiCert != null) {
        b.sslContext(PemTls.clientContext(apiCacert, apiCert, apiKey));
      } else if (apiCacert != null) {
        b.sslContext(PemTls.trusting(apiCacert));
      }
      return b.build();
    }

    private Credentials credentials() {
      String password = apiPassword != null ? apiPassword : System.getenv("PGWARDEN_API_PASSWORD");
      if (password != null) {
        return new Credentials(apiUser == null ? "pgwarden" : apiUser, password, null, null);
      }
      Credentials fromTarget = target.apiCredentials();
      if (fromTarget != null && apiUser != null) {
        return new Credentials(apiUser, fromTarget.password(), null, null);
      }
      return fromTarget;
    }
  }

  @Command(name = "restart", mixinStandardHelpOptions = true, description = "Restart PostgreSQL on a member, or "
      + "with --pending and no NAME on every member with settings waiting for a restart, replicas first.")
  public static final class RestartCommand extends MemberRequest {
    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "The member.")
    String name;

    @Option(names = "--force", description = "Do not ask for confirmation.")
    boolean force;

    @Option(names = "--pending", description = "Only where PostgreSQL has settings that need a restart (list's "
        + "Pending restart); without NAME, every such member in turn.")
    boolean pending;

    @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "300", description = "Without NAME: how long "
        + "each member may take to be back (running, a replica streaming) before the rest are left alone "
        + "(default ${DEFAULT-VALUE}).")
    int waitSeconds;

    @Override
    String path() {
      return "restart";
    }

    @Override
    String name() {
      return name;
    }

    /** The agent checks again, so that a member restarted meanwhile is not restarted twice. */
    @Override
    String body() {
      return pending ? "{\"restart_pending\":true}" : "";
    }

    @Override
    void checkArguments() {
      // Bad arguments print the usage, as picocli's own checks do.
      if (name == null && !pending) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "give the member to restart, or --pending"
            + " to restart every member whose PostgreSQL has settings waiting for a restart");
      }
      if (waitSeconds < 1) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--wait must be 1 or more seconds, got "
            + waitSeconds);
      }
    }

    @Override
    int run(ClusterTarget.Connected c, PrintWriter out) throws Exception {
      ClusterView v = ClusterCommands.read(c);
      if (name != null) {
        MemberStatus m = v.member(name);
        if (pending && m != null && !m.restartPending()) {
          out.println(name + " has no settings waiting for a restart; nothing to do");
          return 0;
        }
        return run(c, v, out);
      }
      List<MemberStatus> todo = rollingOrder(v);
      if (todo.isEmpty()) {
        out.println("no member has settings waiting for a restart; nothing to do");
        return 0;
      }
      List<String> names = todo.stream().map(MemberStatus::name).toList();
      if (!force && !confirm(out, "Restart PostgreSQL on " + String.join(", ", names) + ", one at a time?")) {
        out.println("aborted; nothing changed");
        return 1;
      }
      for (MemberStatus m : todo) {
        MemberStatus now = ClusterCommands.read(c).member(m.name());
        if (now == null || !now.restartPending()) {
          out.println(m.name() + " no longer has settings waiting for a restart; skipped");
          continue;
        }
        int rc = send(now, out);
        if (rc != 0) {
          return rc;
        }
        if (!awaitRestarted(c, m, Duration.ofSeconds(waitSeconds), out)) {
          List<String> left = names.subList(names.indexOf(m.name()) + 1, names.size());
          out.println(m.name() + " is not back without a pending restart within " + waitSeconds + " s (see its agent's"
              + " log)" + (left.isEmpty() ? "" : "; not restarted: " + String.join(", ", left)));
          return 1;
        }
      }
      out.println("restarted " + String.join(", ", names));
      return 0;
    }

    /**
     * The members with a pending restart, replicas before the leader: a setting a hot standby needs at least as
     * high as its primary's (max_connections, max_wal_senders, ...) is raised on the standbys first, as PostgreSQL
     * requires, and the primary's writes pause once, last.
     */
    static List<MemberStatus> rollingOrder(ClusterView v) {
      String leader = v.hasLeader() ? v.leader().holder() : null;
      List<MemberStatus> out = new ArrayList<>();
      MemberStatus last = null;
      // Live members only: a key bound to no lease is no running agent's, and nobody would restart it.
      for (io.pgwarden.common.model.Member member : v.liveMembers()) {
        MemberStatus m = member.status();
        if (!m.restartPending()) {
          continue;
        }
        if (m.name().equals(leader)) {
          last = m;
        } else {
          out.add(m);
        }
      }
      out.sort(java.util.Comparator.comparing(MemberStatus::name));
      if (last != null) {
        out.add(last);
      }
      return out;
    }

    /** Polls until {@code m} publishes that it runs without a pending restart (a replica also streaming). */
    private static boolean awaitRestarted(ClusterTarget.Connected c, MemberStatus m, Duration bound, PrintWriter out)
        throws InterruptedException {
      Instant deadline = Instant.now().plus(bound);
      while (Instant.now().isBefore(deadline)) {
        MemberStatus now = ClusterCommands.read(c).member(m.name());
        if (now != null && now.isRunning() && !now.restartPending()
            && (now.role() != io.pgwarden.common.model.Role.REPLICA || now.streaming())) {
          out.println(m.name() + " restarted");
          out.flush();
          return true;
        }
        out.flush();
        Thread.sleep(500);
      }
      return false;
    }

    @Override
    boolean needsConfirmation() {
      return true;
    }

    @Override
    boolean force() {
      return force;
    }
  }

  @Command(name = "reload", mixinStandardHelpOptions = true, description = "Reload PostgreSQL's config on a member.")
  public static final class ReloadCommand extends MemberRequest {
    @Parameters(index = "0", paramLabel = "NAME", description = "The member.")
    String name;

    @Override
    String name() {
      return name;
    }

    @Override
    String path() {
      return "reload";
    }
  }

  @Command(name = "reinit", mixinStandardHelpOptions = true,
      description = "Throw a replica's data away and take a fresh base backup.")
  public static final class ReinitCommand extends MemberRequest {
    @Parameters(index = "0", paramLabel = "NAME", description = "The member.")
    String name;

    @Option(names = "--force", description = "Do not ask for confirmation.")
    boolean force;

    @Override
    String name() {
      return name;
    }

    @Override
    String path() {
      return "reinit";
    }

    @Override
    boolean needsConfirmation() {
      return true;
    }

    @Override
    boolean force() {
      return force;
    }

    @Override
    int run(ClusterTarget.Connected c, ClusterView v, PrintWriter out) throws Exception {
      // Said here, before the question: the agent would accept the request and only log its refusal.
      if (v.isLeader(name)) {
        throw new IllegalStateException(name + " is the leader: its data is the cluster's; switch over first "
            + "(pgwarden switchover --from " + name + "), then reinit it");
      }
      return super.run(c, v, out);
    }
  }
}
