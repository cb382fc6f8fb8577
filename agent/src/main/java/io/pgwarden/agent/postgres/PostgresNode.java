package io.pgwarden.agent.postgres;

import io.pgwarden.agent.port.PostgresCommandException;
import io.pgwarden.agent.port.PostgresControl;
import io.pgwarden.agent.port.PostgresProbe;
import io.pgwarden.agent.port.ReplicationSource;
import io.pgwarden.agent.port.RewindNotStartedException;
import io.pgwarden.common.config.Credentials;
import io.pgwarden.common.config.HostPort;
import io.pgwarden.common.config.PostgresConfig;
import io.pgwarden.common.decide.Action.StartMode;
import io.pgwarden.common.decide.DemoteMode;
import io.pgwarden.common.decide.ParameterChecks;
import io.pgwarden.common.decide.SlotNames;
import io.pgwarden.common.decide.StartPolicy;
import io.pgwarden.common.model.ControlState;
import io.pgwarden.common.model.DataDirState;
import io.pgwarden.common.model.LocalPgState;
import io.pgwarden.common.model.Lsn;
import io.pgwarden.common.model.SortedMaps;
import io.pgwarden.common.model.TimelineSwitch;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local PostgreSQL: its programs (initdb, pg_ctl, pg_rewind, pg_basebackup, pg_controldata),
 * its config files, and a JDBC connection for probing.
 *
 * <p>Files pgwarden owns, all beside the data directory {@code D} so that a rebuild or pg_rewind,
 * which replace or overwrite {@code D}, never clobber them:
 *
 * <ul>
 *   <li>{@code D.pgpass}: passwords for pg_basebackup, pg_rewind and primary_conninfo (mode 0600);
 *       passwords never appear in a config file, a command line or a log
 *   <li>{@code D.log}: the server log (pg_ctl -l, appended)
 *   <li>{@code D.new}: initdb / pg_basebackup target until complete; {@code D.old-yyyyMMddHHmmss}:
 *       a replaced data directory, moved aside and never deleted
 *   <li>the parent of {@code D}: the Unix socket directory (short, and survives rebuilds)
 * </ul>
 *
 * <p>Inside {@code D}, pgwarden writes {@code pgwarden.conf} (included last from postgresql.conf),
 * {@code pg_hba.conf} and {@code standby.signal} on every start, because pg_rewind and pg_basebackup
 * copy the source's files over ours.
 *
 * <p>Control methods serialize on one lock; {@link #probe()} does not take it, so the loop can keep
 * observing while a long pg_basebackup or pg_rewind runs on another thread.
 */
public final class PostgresNode implements PostgresControl, PostgresProbe, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PostgresNode.class);

  static final String MANAGED_CONF = "pgwarden.conf";
  static final String INCLUDE_LINE = "include '" + MANAGED_CONF + "'";
  private static final int MAX_SOCKET_PATH = 107;
  private static final Duration PG_CTL_WAIT = Duration.ofSeconds(60);
  /** Our own bound on a pg_ctl call: beyond its -t, so pg_ctl reports the timeout itself. */
  private static final Duration PG_CTL_TIMEOUT = PG_CTL_WAIT.plusSeconds(30);
  private static final Duration INITDB_TIMEOUT = Duration.ofMinutes(10);
  private static final Duration REWIND_TIMEOUT = Duration.ofHours(6);
  private static final Duration BASEBACKUP_TIMEOUT = Duration.ofHours(24);
  private static final Duration PROMOTE_CONFIRM = Duration.ofSeconds(60);
  private static final Duration CHECKPOINT_TIMEOUT = Duration.ofMinutes(30);
  // A promotion or a fast stop of an idle server takes tens of milliseconds (a promotion seconds when
  // recovery was waiting to retry its source): the agent's own looks are 10 ms apart for the first half
  // second, then double up to 50 ms, half of pg_ctl's 100. Doubling from the start saw a promotion 18-36 ms
  // after the server had ended it (its log's "ready to accept connections"), every commit of the cluster
  // waiting meanwhile; 7-19 ms with the flat start.
  private static final Duration SERVER_POLL = Duration.ofMillis(10);
  private static final Duration SERVER_POLL_FLAT = Duration.ofMillis(500);
  private static final Duration SERVER_POLL_MAX = Duration.ofMillis(50);
  private static final int CONNECT_TIMEOUT_S = 5;
  private static final int SOCKET_TIMEOUT_S = 10;
  private static final DateTimeFormatter ASIDE_STAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmss");

  private final String member;
  private final PostgresConfig cfg;
  private final Credentials superuser;
  private final Credentials replication;
  private final ProcessRunner runner;
  private final Path binDir;
  private final Path dataDir;
  private final Path parentDir;
  /**
   * Survives restarts of PostgreSQL. Null until this agent set it or saw it on a running primary: a render
   * before that keeps what the data directory's pgwarden.conf holds, never an empty value — a primary that
   * stopped waiting for its recorded synchronous standby could acknowledge commits that standby lacks.
   */
  private volatile String synchronousStandbyNames;
  /**
   * The primary's flush position when PostgreSQL last started waiting for the standbys it names (null
   * until this agent set them or first probed a primary, and again from a promotion to its first probe):
   * see {@link #caughtUp}.
   */
  private volatile Lsn syncWaitFrom;
  /** Synchronous mode: a replica's files carry synchronous_standby_names '*' for its promotion. */
  private volatile boolean holdOnPromote;
  /** synchronous_standby_names of a promotion's hold: a standby no member can be (LocalPgState.PROMOTION_HOLD). */
  static final String HOLD = synchronousStandbyNames(List.of(LocalPgState.PROMOTION_HOLD), 1);
  private String timelineOfStart;
  private long highestTimeline;
  /** The dynamic parameters to render next (from the last observed /config). */
  private volatile Map<String, String> dynamicParameters = Map.of();
  /** What the loop last passed in, by identity (loop thread only). */
  private Map<String, String> lastGivenParameters;
  private Set<String> lastGivenHosts;
  /** The dynamic parameters the config files hold and PostgreSQL was started or reloaded with; null: unknown. */
  private volatile Map<String, String> appliedParameters;
  /** Where replication may connect from (the members' hosts, from the last observation). */
  private volatile Set<String> replicationHosts = io.pgwarden.common.decide.ReplicationHosts.LOOPBACK;
  /** The replication hosts pg_hba.conf holds and PostgreSQL was started or reloaded with; null: unknown. */
  private volatile Set<String> appliedReplicationHosts;
  /**
   * Parameters PostgreSQL rejected on a reload, by name; left out of the config files (or rendered
   * with the value they replaced) until their configured value changes, so no later restart fails
   * on them and no reload repeats the error.
   */
  private final Map<String, Rejected> rejected = new java.util.concurrent.ConcurrentHashMap<>();
  private final Path pgpassFile;
  private final Path logFile;
  /** Checked on every tick, so resolved once. */
  private final Path rewindMarker;
  private final Path socketDir;
  private final String jdbcUrl;

  /** A rejected parameter: its value, why, and what is rendered instead (null: nothing). */
  record Rejected(String value, String reason, String fallback) {}

  private final Object actionLock = new Object();
  private final Object jdbcLock = new Object();
  private Connection conn; // guarded by jdbcLock
  /**
   * What the probe knows of {@link #probedOn}, the connection it last used (guarded by jdbcLock): its statements,
   * kept open by their text, and whether it has seen a primary there. All of it goes with the connection.
   */
  private Connection probedOn;
  private final Map<String, PreparedStatement> kept = new HashMap<>();
  private boolean sawPrimary;
  /** A postmaster found running, and the time of the pid file it was found by (before reading it). */
  private record Found(ProcessHandle process, long pidFileTime) {}

  /** The postmaster {@link #postmasterAlive()} last found running; null when none. */
  private volatile Found postmaster;
  private final File pidFileAsFile;
  /** Resolved once: every tick asks whether it exists. */
  private final Path pgControl;
  /** The last primary_conninfo {@link #upstreamOf} was asked about, and its answer (guarded by jdbcLock). */
  private String lastConninfo;
  private String lastUpstream;

  /**
   * @param superuser the role the agent connects as; {@code password()} is the resolved password
   *     (null: none)
   * @param replication the role replicas stream as; {@code password()} as above
   */
  public PostgresNode(String memberName, PostgresConfig cfg, Credentials superuser, Credentials replication,
      ProcessRunner runner) {
    this.member = Objects.requireNonNull(memberName, "memberName");
    this.cfg = Objects.requireNonNull(cfg, "cfg");
    this.superuser = Objects.requireNonNull(superuser, "superuser");
    this.replication = Objects.requireNonNull(replication, "replication");
    this.runner = Objects.requireNonNull(runner, "runner");
    this.binDir = Path.of(cfg.binDir());
    this.dataDir = Path.of(cfg.dataDir()).normalize();
    this.pidFileAsFile = dataDir.resolve("postmaster.pid").toFile();
    this.pgControl = dataDir.resolve("global").resolve("pg_control");
    this.parentDir = dataDir.getParent();
    this.pgpassFile = sibling(".pgpass");
    this.logFile = sibling(".log");
    this.rewindMarker = sibling(".rewind-incomplete");
    this.socketDir = chooseSocketDir(parentDir, cfg.listen().port());
    this.jdbcUrl = "jdbc:postgresql://" + jdbcHost(cfg.listen()) + ":" + cfg.listen().port() + "/postgres";
  }

  public Path dataDir() {
    return dataDir;
  }

  public Path logFile() {
    return logFile;
  }

  public Path pgpassFile() {
    return pgpassFile;
  }

  public Path socketDir() {
    return socketDir;
  }

  // ---------------------------------------------------------------------------------------------
  // PostgresControl

  @Override
  public void initdb() {
    synchronized (actionLock) {
      if (dataDirStateChecked() == DataDirState.VALID) {
        log.info("initdb: {} already holds a cluster; leaving it alone", dataDir);
        return;
      }
      if (superuser.password() == null) {
        throw new PostgresCommandException("initdb", "the superuser needs a password: pg_hba uses scram-sha-256", null);
      }
      Path fresh = sibling(".new");
      Path pwfile = parentDir.resolve("." + dataDir.getFileName() + ".pwfile");
      try {
        deleteTree(fresh);
        writePrivateFile(pwfile, superuser.password() + "\n", parentDir);
        log.info("initdb into {}", fresh);
        runner.runChecked("initdb", List.of(bin("initdb"), "-D", fresh.toString(), "--data-checksums",
            "-U", superuser.username(), "--pwfile=" + pwfile, "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"), env(), parentDir, INITDB_TIMEOUT);
      } catch (IOException e) {
        throw new PostgresCommandException("initdb", "preparing " + fresh + ": " + e.getMessage(), e);
      } finally {
        deleteQuietly(pwfile);
      }
      installFresh(fresh, "initdb");
      writeConfigOrThrow("initdb", StartMode.PRIMARY, null);
      log.info("initdb done: {}", dataDir);
    }
  }

  @Override
  public void start(StartMode mode, ReplicationSource upstream) {
    synchronized (actionLock) {
      if (alive()) {
        alreadyRunning(mode, upstream);
        return;
      }
      if (dataDirStateChecked() != DataDirState.VALID) {
        throw new PostgresCommandException("pg_ctl start", "no valid cluster in " + dataDir, null);
      }
      writeConfigOrThrow("pg_ctl start", mode, upstream);
      rejectBeforeStart(mode, upstream);
      log.info("starting PostgreSQL as {}{}", mode, mode == StartMode.REPLICA
          ? " of " + (upstream == null ? "nobody" : upstream.name() + " (" + upstream.hostPort() + ")") : "");
      long logFrom = sizeOf(logFile);
      try {
        runner.runChecked("pg_ctl start", List.of(bin("pg_ctl"), "start", "-D", dataDir.toString(), "-w",
            "-t", Long.toString(PG_CTL_WAIT.toSeconds()), "-l", logFile.toString()), env(), parentDir, PG_CTL_TIMEOUT);
      } catch (PostgresCommandException e) {
        // pg_ctl only says "Examine the log output": the reason is in the server's log, so it goes with the error.
        String said = serverSaid(logFile, logFrom);
        if (said.isEmpty()) {
          throw e;
        }
        throw new PostgresCommandException("pg_ctl start", "exit code " + e.exitCode() + "; the server's log " + logFile
            + " says: " + said, e);
      }
      log.info("PostgreSQL started as {}", mode);
    }
  }

  private void alreadyRunning(StartMode mode, ReplicationSource upstream) {
    LocalPgState s = probe();
    switch (StartPolicy.onRunning(mode, s.running(), s.inRecovery())) {
      case LEAVE_IT -> log.info("start: a postmaster is already running but does not answer yet ({}); "
          + "not starting another", s.probeError());
      case NOTHING -> log.debug("start: already running as primary");
      case FOLLOW -> follow(upstream);
      case REFUSE -> throw new PostgresCommandException("pg_ctl start", StartPolicy.refusal(mode, s.inRecovery()),
          null);
    }
  }

  @Override
  public void stop(DemoteMode mode) {
    synchronized (actionLock) {
      if (!alive()) {
        log.debug("stop: PostgreSQL is not running");
        return;
      }
      closeConnection();
      if (mode == DemoteMode.FAST) {
        Duration bound = Duration.ofSeconds(Math.max(1, mode.escalateAfter().toSeconds()));
        log.info("stopping PostgreSQL (fast, immediate after {}s)", bound.toSeconds());
        String notStopped = stopAndAwait("fast", bound);
        if (notStopped == null) {
          log.info("PostgreSQL stopped (fast)");
          return;
        }
        log.warn("fast stop did not complete ({}); escalating to immediate", notStopped);
      } else {
        log.info("stopping PostgreSQL (immediate)");
      }
      String notStopped = stopAndAwait("immediate", PG_CTL_WAIT);
      if (notStopped != null) {
        throw new PostgresCommandException("pg_ctl stop -m immediate", notStopped, null);
      }
      log.info("PostgreSQL stopped (immediate)");
    }
  }

  @Override
  public void promote(boolean holdCommits) {
    synchronized (actionLock) {
      LocalPgState s = probe();
      if (s.runningAsPrimary()) {
        log.debug("promote: already primary");
        return;
      }
      if (!s.running()) {
        throw new PostgresCommandException("promotion", "PostgreSQL is not running"
            + (s.probeError() == null ? "" : " (" + s.probeError() + ")"), null);
      }
      // A value this agent set while it was primary before (then demoted without a restart) must not come
      // back with the next PRIMARY rendering (a reload, a pg_hba change): the new primary would make every
      // commit wait for a standby that is not its own until the leader's next tick replaced it. The new
      // topology starts with no synchronous standby; the loop records and sets one as standbys stream.
      synchronousStandbyNames = holdCommits ? HOLD : "";
      // Likewise a position from that earlier term: a standby past it may still lack this term's commits.
      // The first probe as primary counts from its own position, as after an agent restart.
      syncWaitFrom = null;
      if (holdCommits && !HOLD.equals(runningSetting("synchronous_standby_names"))) {
        // Loaded before the promotion, so the first commit after it already waits. Usually the replica's
        // files carry it already (holdCommitsWhenPromoted): a reload just before pg_ctl promote can make
        // PostgreSQL 15 take wal_retrieve_retry_interval (1 s here, 5 s by PostgreSQL's default) to promote, if it wakes the startup process
        // in its retry wait after the upstream went away.
        holdOnPromote = true;
        writeConfigOrThrow("hold commits before promoting", StartMode.REPLICA,
            s.upstream() == null ? null : ReplicationSource.parse(s.upstream(), s.upstream()));
        reloadConf();
      }
      log.info("promoting PostgreSQL{}", holdCommits ? " (commits wait until the new topology is recorded)" : "");
      // Without pg_ctl's wait (-W): it looks every 100 ms (PostgreSQL 15), a promotion takes tens of
      // milliseconds, and every write of the cluster waits for it. The exit code says the signal was sent;
      // only the server can say recovery has ended.
      runner.runChecked("pg_ctl promote", List.of(bin("pg_ctl"), "promote", "-D", dataDir.toString(), "-W"),
          env(), parentDir, PG_CTL_TIMEOUT);
      awaitEndOfRecovery();
      // No CHECKPOINT here: the server starts one itself at the end of recovery, and only pg_rewind needs it
      // done, so the node that rewinds makes sure of it (rewind). Waiting for it here held every commit of the
      // cluster 30-60 ms longer.
      log.info("promoted: PostgreSQL is primary");
    }
  }

  @Override
  public void makeSlots(Set<String> slots) {
    synchronized (actionLock) {
      List<String> made = new ArrayList<>();
      try {
        synchronized (jdbcLock) {
          Connection c = connection();
          for (String slot : new TreeSet<>(slots)) {
            // immediately_reserve = true: on a replica, from its last restartpoint's redo position.
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_create_physical_replication_slot(?, true)"
                + " WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)")) {
              ps.setString(1, slot);
              ps.setString(2, slot);
              try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                  made.add(slot);
                }
              }
            }
          }
        }
      } catch (SQLException e) {
        closeConnection();
        throw new PostgresCommandException("make replication slots " + slots, e.getMessage(), e);
      }
      if (!made.isEmpty()) {
        log.info("created replication slots {}", made);
      }
    }
  }

  @Override
  public void follow(ReplicationSource upstream) {
    synchronized (actionLock) {
      LocalPgState s = probe();
      if (!s.runningAsReplica()) {
        throw new PostgresCommandException("follow", "PostgreSQL is not running as a replica"
            + (s.probeError() == null ? "" : " (" + s.probeError() + ")"), null);
      }
      String want = upstream == null ? null : upstream.hostPort();
      if (Objects.equals(want, s.upstream())) {
        log.debug("follow: already following {}", want);
        return;
      }
      writeConfigOrThrow("follow", StartMode.REPLICA, upstream);
      reloadConf();
      log.info("now following {} (was {})", want == null ? "nobody" : upstream.name() + " (" + want + ")", s.upstream());
    }
  }

  @Override
  public void useDynamicParameters(Map<String, String> parameters) {
    if (parameters == lastGivenParameters) {
      // The same config's map as the last tick's (every tick of an idle agent): nothing to copy or retry.
      return;
    }
    lastGivenParameters = parameters;
    // The config's own map, kept as it is (SortedMaps): the probe reports it as applied, and the decision finds
    // it equal to the config's at a glance.
    dynamicParameters = SortedMaps.of(parameters);
    // A changed (or removed) value is tried again with the next reload.
    rejected.entrySet().removeIf(e -> !e.getValue().value().equals(configured(e.getKey(), dynamicParameters)));
  }

  /** The value the operator configured for {@code name}: the node's config over /config; null: none. */
  private String configured(String name, Map<String, String> dynamic) {
    return ParameterChecks.configured(name, cfg.parameters(), dynamic);
  }

  @Override
  public void useReplicationHosts(Set<String> hosts) {
    if (hosts != lastGivenHosts) {
      lastGivenHosts = hosts;
      replicationHosts = Set.copyOf(hosts);
    }
  }

  @Override
  public void holdCommitsWhenPromoted(boolean hold) {
    holdOnPromote = hold;
  }

  @Override
  public void reload() {
    synchronized (actionLock) {
      LocalPgState s = probe();
      if (!s.running()) {
        throw new PostgresCommandException("reload", "PostgreSQL is not running", null);
      }
      ReplicationSource upstream = null;
      if (s.inRecovery() && s.upstream() != null) {
        upstream = ReplicationSource.parse(s.upstream(), s.upstream());
      }
      StartMode mode = s.inRecovery() ? StartMode.REPLICA : StartMode.PRIMARY;
      writeConfigOrThrow("reload", mode, upstream);
      reloadConf();
      log.info("reloaded PostgreSQL configuration");
      if (rejectNewErrors()) {
        writeConfigOrThrow("reload without rejected parameters", mode, upstream);
        reloadConf();
      }
    }
  }

  @Override
  public void setSynchronousStandbys(List<String> names, int count) {
    synchronized (actionLock) {
      String value = synchronousStandbyNames(names, count);
      LocalPgState s = probe();
      if (!s.runningAsPrimary()) {
        throw new PostgresCommandException("set synchronous_standby_names", "PostgreSQL is not running as primary", null);
      }
      synchronousStandbyNames = value;
      writeConfigOrThrow("set synchronous_standby_names", StartMode.PRIMARY, null);
      reloadConf();
      // Every commit acknowledged before the reload is flushed here, at or below this position.
      syncWaitFrom = currentFlushPosition();
      log.info("synchronous_standby_names = '{}'", value);
    }
  }

  private String currentSynchronousStandbyNames() {
    String v = synchronousStandbyNames;
    if (v == null) {
      v = managedConfValue("synchronous_standby_names").orElse("");
      synchronousStandbyNames = v;
    }
    return v;
  }

  /** The value pgwarden.conf of the data directory holds for {@code name}, unquoted; empty when none. */
  Optional<String> managedConfValue(String name) {
    Path file = dataDir.resolve(MANAGED_CONF);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      return PgText.confValue(Files.readString(file), name);
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + file, e);
    }
  }

  /**
   * The synchronous standbys of {@code column} ("name flush_lsn,..." of pg_stat_replication's sync and
   * streaming rows) that have flushed WAL up to {@code from}: only those hold every commit acknowledged
   * before PostgreSQL started waiting for them. "sync" alone shows as soon as the setting is reloaded,
   * and "streaming" means the WAL was sent, not that a slow standby flushed it.
   */
  static Set<String> caughtUp(String column, Lsn from) {
    Set<String> out = new HashSet<>();
    if (column == null) {
      return out;
    }
    for (String row : column.split(",")) {
      int sp = row.indexOf(' ');
      if (sp > 0 && from != null && !from.isAfter(Lsn.parse(row.substring(sp + 1)))) {
        out.add(row.substring(0, sp));
      }
    }
    return out;
  }

  /** The value for synchronous_standby_names: member names are quoted as identifiers. */
  static String synchronousStandbyNames(List<String> names, int count) {
    if (names.isEmpty()) {
      return "";
    }
    if (names.equals(List.of("*"))) {
      return "*";
    }
    List<String> quoted = new ArrayList<>();
    for (String n : names) {
      quoted.add("\"" + n.replace("\"", "\"\"") + "\"");
    }
    return "FIRST " + Math.min(count, names.size()) + " (" + String.join(", ", quoted) + ")";
  }

  /** The member names a synchronous_standby_names value lists ("*" stays "*"). */
  static Set<String> parseSynchronousStandbyNames(String value) {
    Set<String> out = new HashSet<>();
    if (value == null || value.isBlank()) {
      return out;
    }
    String v = value.trim();
    int open = v.indexOf('(');
    if (open >= 0 && v.endsWith(")")) {
      v = v.substring(open + 1, v.length() - 1);
    }
    for (String part : v.split(",")) {
      String n = part.trim();
      if (n.startsWith("\"") && n.endsWith("\"") && n.length() >= 2) {
        n = n.substring(1, n.length() - 1).replace("\"\"", "\"");
      }
      if (!n.isEmpty()) {
        out.add(n);
      }
    }
    return out;
  }

  /**
   * After a reload: the parameters of pgwarden.conf PostgreSQL did not take, other than those only
   * a restart applies, become {@link #rejected} with one error line each. Returns whether any is
   * new (the files must then be written again without them). PostgreSQL kept the value in effect
   * before, which is rendered in the rejected one's place.
   */
  private boolean rejectNewErrors() {
    Map<String, Rejected> found = new LinkedHashMap<>();
    synchronized (jdbcLock) {
      // A fresh backend: forked after the postmaster processed the reload, so its pending_restart
      // flags describe the new files (a kept one may not have handled the signal yet).
      closeConnection();
      try {
        Connection c = connection();
        List<String[]> rows = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
            "SELECT f.name, f.setting, f.error, s.context, s.vartype, s.min_val, s.max_val, s.unit, s.enumvals::text,"
                + " current_setting(f.name, true) FROM pg_file_settings f LEFT JOIN pg_settings s ON s.name = f.name"
                + " WHERE f.error IS NOT NULL AND f.sourcefile = ? AND NOT coalesce(s.pending_restart, false)"
                + " ORDER BY f.seqno")) {
          ps.setString(1, dataDir.resolve(MANAGED_CONF).toString());
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              String[] r = new String[10];
              for (int i = 0; i < 10; i++) {
                r[i] = rs.getString(i + 1);
              }
              rows.add(r);
            }
          }
        }
        Map<String, String> known = rejectedValues();
        for (String[] r : rows) {
          // As configured, so that it compares with what is rendered and with later /config values.
          String value = ParameterChecks.newlyRejected(r[0], cfg.parameters(), dynamicParameters, known);
          if (value != null) {
            found.put(r[0], new Rejected(value, reason(c, r), r[9]));
          }
        }
      } catch (SQLException e) {
        closeConnection();
        log.warn("could not check which parameters PostgreSQL took after the reload: {}", e.getMessage());
        return false;
      }
    }
    found.forEach((name, r) -> log.error("postgresql parameter {} = '{}' rejected by PostgreSQL: {}; {} until the "
        + "value is changed", name, r.value(), r.reason(), r.fallback() == null
            ? "left out of the config files (PostgreSQL's default applies)"
            : "PostgreSQL keeps '" + r.fallback() + "'"));
    rejected.putAll(found);
    return !found.isEmpty();
  }

  /**
   * Why PostgreSQL refused {@code row} (name, setting, error, context, vartype, min, max, unit,
   * enumvals): for a setting a session may set, PostgreSQL's own message from trying it in a
   * transaction that is rolled back; otherwise what the parameter expects.
   */
  private static String reason(Connection c, String[] row) throws SQLException {
    String name = row[0];
    String context = row[3];
    if (context == null) {
      return row[2].startsWith("unrecognized") ? row[2] : "unrecognized configuration parameter \"" + name + "\"";
    }
    if (context.equals("user") || context.equals("superuser")) {
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement("SELECT set_config(?, ?, true)")) {
        ps.setString(1, name);
        ps.setString(2, row[1]);
        ps.executeQuery().close();
      } catch (SQLException e) {
        String m = e.getMessage() == null ? "" : e.getMessage().strip();
        int nl = m.indexOf('\n');
        return (nl < 0 ? m : m.substring(0, nl)).replaceFirst("^ERROR:\\s*", "");
      } finally {
        c.rollback();
        c.setAutoCommit(auto);
      }
    }
    StringBuilder b = new StringBuilder("invalid value for parameter \"" + name + "\": \"" + row[1] + "\" (expects ");
    b.append(row[4] == null ? "another value" : row[4]);
    if (row[5] != null && row[6] != null) {
      b.append(" between ").append(row[5]).append(" and ").append(row[6]);
    }
    if (row[7] != null) {
      b.append(", unit ").append(row[7]);
    }
    if (row[8] != null) {
      b.append(", one of ").append(row[8]);
    }
    return b.append(")").toString();
  }

  /**
   * Before a start: PostgreSQL refuses to start at all on a value it rejects, so the rendered files
   * are checked with {@code postgres -C} first (it reads them as a start would, without starting).
   * An operator's parameter it names is rejected as after a reload, and the files rendered again;
   * anything else is left for pg_ctl to report.
   */
  private void rejectBeforeStart(StartMode mode, ReplicationSource upstream) {
    Map<String, String> dynamic = dynamicParameters;
    if (dynamic.isEmpty() && cfg.parameters().isEmpty()) {
      return;
    }
    for (int round = 0; round < 20; round++) {
      ProcessRunner.Result r = runner.run(List.of(bin("postgres"), "-D", dataDir.toString(), "-C", "server_version"),
          env(), parentDir, Duration.ofSeconds(60));
      if (r.ok() || r.timedOut()) {
        return;
      }
      List<ParameterChecks.Rejection> found =
          ParameterChecks.rejectedByCheck(r.stderrTail(), cfg.parameters(), dynamic, rejectedValues());
      for (ParameterChecks.Rejection x : found) {
        log.error("postgresql parameter {} = '{}' rejected by PostgreSQL: {}; left out of the config files "
            + "(PostgreSQL's default applies) until the value is changed", x.name(), x.value(), x.reason());
        rejected.put(x.name(), new Rejected(x.value(), x.reason(), null));
      }
      if (found.isEmpty()) {
        return;
      }
      writeConfigOrThrow("pg_ctl start", mode, upstream);
    }
  }

  /** The rejected parameters, name to the value rejected. */
  private Map<String, String> rejectedValues() {
    Map<String, String> known = new LinkedHashMap<>();
    rejected.forEach((name, k) -> known.put(name, k.value()));
    return known;
  }

  /** The rejected parameters, name to "value: reason", for the member status. */
  Map<String, String> parameterErrors() {
    Map<String, String> out = new java.util.TreeMap<>();
    rejected.forEach((k, r) -> out.put(k, "'" + r.value() + "': " + r.reason()));
    return out;
  }

  private void reloadConf() {
    try {
      execute("SELECT pg_reload_conf()");
    } catch (SQLException e) {
      appliedParameters = null;
      appliedReplicationHosts = null;
      throw new PostgresCommandException("pg_reload_conf()", e.getMessage(), e);
    }
  }

  @Override
  public void rewind(ReplicationSource source) {
    synchronized (actionLock) {
      if (alive()) {
        throw new PostgresCommandException("pg_rewind", "PostgreSQL is running; stop it first", null);
      }
      writePgpassOrThrow("pg_rewind");
      awaitCheckpointOnTimeline(source);
      Map<String, String> ci = new LinkedHashMap<>();
      ci.put("host", source.host());
      ci.put("port", Integer.toString(source.port()));
      ci.put("user", superuser.username());
      ci.put("dbname", "postgres");
      ci.put("passfile", pgpassFile.toString());
      ci.put("connect_timeout", "10");
      try {
        // Written before pg_rewind touches anything, removed only once it has succeeded (or a base backup
        // replaced the directory): a rewind cut short leaves it behind, across agent restarts too.
        Files.writeString(rewindMarker(), "pg_rewind from " + source.name() + " (" + source.hostPort() + ") started "
            + LocalDateTime.now() + "\n");
      } catch (IOException e) {
        throw new PostgresCommandException("pg_rewind", "writing " + rewindMarker() + ": " + e.getMessage(), e);
      }
      log.info("pg_rewind {} from {} ({})", dataDir, source.name(), source.hostPort());
      ProcessRunner.Result r;
      try {
        r = runner.runChecked("pg_rewind", List.of(bin("pg_rewind"), "-D", dataDir.toString(),
            "--source-server=" + PgText.conninfo(ci), "--progress"), env(), parentDir, REWIND_TIMEOUT);
      } catch (PostgresCommandException e) {
        if (failedBeforeTouchingTarget(e)) {
          deleteMarker("pg_rewind");
          throw new RewindNotStartedException(e);
        }
        throw e;
      }
      boolean noop = (r.stdout() + r.stderrTail()).contains("no rewind required");
      deleteMarker("pg_rewind");
      log.info("pg_rewind done{}", noop ? ": no rewind required" : "");
    }
  }

  /**
   * pg_rewind (PostgreSQL 15) takes the source's timeline from its pg_control, which only the first checkpoint
   * after a promotion updates: before it, a diverged node looks like one on the source's own timeline, and
   * pg_rewind finds "no rewind required". A promoted server starts that checkpoint itself, spread out over
   * checkpoint_timeout; a CHECKPOINT here makes it finish at once. Only when the source's last checkpoint is
   * on an older timeline than the one it runs on: on a primary every node follows, a checkpoint is I/O for
   * all of them. When it cannot tell, the rewind does not start (nothing is touched; it is tried again): a
   * pg_rewind against a lagging pg_control would report "no rewind required" for a diverged node.
   */
  private void awaitCheckpointOnTimeline(ReplicationSource source) {
    String host = source.host().contains(":") ? "[" + source.host() + "]" : source.host();
    // A checkpoint writes every dirty buffer of the source: bounded, but not by the probe's 10 s.
    Properties p = connectionProperties(CHECKPOINT_TIMEOUT.toSeconds());
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + host + ":" + source.port() + "/postgres", p);
        Statement st = c.createStatement()) {
      long checkpointTimeline;
      long timeline;
      try (ResultSet rs = st.executeQuery("SELECT (SELECT timeline_id FROM pg_control_checkpoint()),"
          + " CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END")) {
        rs.next();
        checkpointTimeline = rs.getLong(1);
        String walFile = rs.getString(2);
        if (walFile == null) {
          return; // a source in recovery: its timeline comes from what it replays, not from a promotion
        }
        timeline = Long.parseLong(walFile.substring(0, 8), 16);
      }
      if (checkpointTimeline >= timeline) {
        return;
      }
      log.info("CHECKPOINT on {} before pg_rewind: its last checkpoint is on timeline {}, it runs on {}",
          source.name(), checkpointTimeline, timeline);
      st.execute("CHECKPOINT");
    } catch (SQLException | RuntimeException e) {
      throw new RewindNotStartedException("could not make sure " + source.name() + " (" + source.hostPort()
          + ") has checkpointed since its promotion, which pg_rewind needs: " + e.getMessage(), e);
    }
  }

  @Override
  public void baseBackup(ReplicationSource source) {
    synchronized (actionLock) {
      if (alive()) {
        throw new PostgresCommandException("pg_basebackup", "PostgreSQL is running; stop it first", null);
      }
      Path fresh = sibling(".new");
      try {
        deleteTree(fresh);
      } catch (IOException e) {
        throw new PostgresCommandException("pg_basebackup", "removing stale " + fresh + ": " + e.getMessage(), e);
      }
      writePgpassOrThrow("pg_basebackup");
      log.info("pg_basebackup from {} ({}) into {}", source.name(), source.hostPort(), fresh);
      boolean done = false;
      try {
        runner.runChecked("pg_basebackup", List.of(bin("pg_basebackup"), "-D", fresh.toString(), "-h", source.host(),
            "-p", Integer.toString(source.port()), "-U", replication.username(), "-X", "stream", "-c", "fast",
            "--no-password"), env(), parentDir, BASEBACKUP_TIMEOUT);
        done = true;
      } finally {
        if (!done) {
          deleteQuietly(fresh);
        }
      }
      installFresh(fresh, "pg_basebackup");
      log.info("pg_basebackup done: {}", dataDir);
    }
  }

  @Override
  public void ensureReplicationRole() {
    synchronized (actionLock) {
      String user = replication.username();
      try {
        synchronized (jdbcLock) {
          Connection c = connection();
          boolean exists;
          try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_roles WHERE rolname = ?")) {
            ps.setString(1, user);
            try (ResultSet rs = ps.executeQuery()) {
              exists = rs.next();
            }
          }
          try (Statement st = c.createStatement()) {
            st.execute((exists ? "ALTER" : "CREATE") + " ROLE " + PgText.sqlIdentifier(user) + " WITH REPLICATION LOGIN");
          }
          if (replication.password() != null) {
            // pgjdbc hashes the password client-side (SCRAM), so the server never sees it in a
            // statement that could end up in its log.
            c.unwrap(PGConnection.class).alterUserPassword(user, replication.password().toCharArray(), "scram-sha-256");
          }
          log.info("replication role {} {}", user, exists ? "updated" : "created");
        }
      } catch (SQLException e) {
        closeConnection();
        throw new PostgresCommandException("ensure replication role " + user, e.getMessage(), e);
      }
    }
  }

  @Override
  public void ensureSlots(Set<String> slots) {
    synchronized (actionLock) {
      try {
        synchronized (jdbcLock) {
          Connection c = connection();
          Map<String, Boolean> present = new LinkedHashMap<>();
          try (Statement st = c.createStatement();
              ResultSet rs = st.executeQuery(
                  "SELECT slot_name, active FROM pg_replication_slots WHERE slot_type = 'physical'")) {
            while (rs.next()) {
              present.put(rs.getString(1), rs.getBoolean(2));
            }
          }
          for (String slot : slots) {
            if (!present.containsKey(slot)) {
              // immediately_reserve = true: WAL is kept from now on, before the replica first connects.
              try (PreparedStatement ps = c.prepareStatement("SELECT pg_create_physical_replication_slot(?, true)")) {
                ps.setString(1, slot);
                ps.execute();
              }
              log.info("created replication slot {}", slot);
            }
          }
          for (Map.Entry<String, Boolean> e : present.entrySet()) {
            if (!slots.contains(e.getKey()) && !e.getValue()) {
              try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
                ps.setString(1, e.getKey());
                ps.execute();
              }
              log.info("dropped replication slot {}", e.getKey());
            }
          }
        }
      } catch (SQLException e) {
        closeConnection();
        throw new PostgresCommandException("ensure replication slots " + slots, e.getMessage(), e);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // PostgresProbe

  @Override
  public LocalPgState probe() {
    try {
      LocalPgState s = probeOrThrow();
      return s.running()
          ? s.withApplied(appliedParameters, s.pendingRestart(), appliedReplicationHosts, parameterErrors())
          : s;
    } catch (RuntimeException e) {
      return LocalPgState.unknown("probe failed: " + e, safePostmasterAlive());
    }
  }

  private LocalPgState probeOrThrow() {
    DataDirState dd;
    try {
      dd = dataDirState();
    } catch (UncheckedIOException e) {
      return LocalPgState.unknown("cannot inspect " + dataDir + ": " + e.getCause().getMessage(), safePostmasterAlive());
    }
    if (postmasterAlive()) {
      try {
        return queryRunning();
      } catch (SQLException e) {
        closeConnection();
        if ("57P03".equals(e.getSQLState()) && dd == DataDirState.VALID) {
          // "the database system is starting up" (or shutting down): it accepts no connection at all,
          // so no write either; recovery after a rewind or a crash can take a while.
          return new LocalPgState(DataDirState.VALID, false, false, ControlState.STARTING_UP, null, null, null, null,
              false, null, null, null, true, null);
        }
        return LocalPgState.unknown("postmaster is running but the query failed: " + e.getMessage(), true,
            dd == DataDirState.VALID ? controlStateOrUnknown() : ControlState.UNKNOWN);
      }
    }
    closeConnection();
    if (dd != DataDirState.VALID) {
      return new LocalPgState(dd, false, false, ControlState.UNKNOWN, null, null, null, null, false, null, null,
          null, false, null);
    }
    PgControlData cd;
    try {
      cd = PgControlData.read(runner, binDir, dataDir, parentDir);
    } catch (PostgresCommandException e) {
      return LocalPgState.unknown(e.getMessage(), false);
    }
    // A stopped standby replayed up to its minimum recovery point, which may lie past the last
    // checkpoint — and past a fork: that is the position to judge divergence by.
    boolean pastCheckpoint = cd.minRecoveryEnd().isAfter(cd.checkpointLsn())
        && cd.minRecoveryEndTimeline() >= cd.checkpointTimeline();
    // PostgreSQL renames backup_label at the first start of a base backup, whose pg_control still says
    // "in production" (the source's). Judged by pg_control alone, a clone that failed to start would
    // look like a diverged old primary on the leader's timeline and be cloned again — every tick, each
    // copy moved aside, until the disk is full.
    ControlState state = Files.exists(dataDir.resolve("backup_label")) ? ControlState.BASE_BACKUP : cd.state();
    return new LocalPgState(DataDirState.VALID, false, false, state, cd.systemId(),
        pastCheckpoint ? cd.minRecoveryEndTimeline() : cd.checkpointTimeline(),
        pastCheckpoint ? cd.minRecoveryEnd() : cd.checkpointLsn(), null, false, null, null, null, false, null);
  }

  private LocalPgState queryRunning() throws SQLException {
    synchronized (jdbcLock) {
      boolean reused = conn != null;
      try {
        return queryRunningOnce();
      } catch (SQLException e) {
        if (!reused) {
          throw e;
        }
        // A kept connection dies with every server restart; that alone is no reason to report
        // the node as unknown, so try once more on a fresh one.
        closeConnection();
        return queryRunningOnce();
      }
    }
  }

  private LocalPgState queryRunningOnce() throws SQLException {
    synchronized (jdbcLock) {
      Connection c = connection();
      probing(c);
      if (sawPrimary) {
        return queryKnownPrimary(c);
      }
      boolean inRecovery;
      String systemId;
      Set<String> pending;
      LocalPgState replica;
      // One round trip for what both roles need and all a replica needs (the probe runs every tick, and
      // every one of these functions also answers on a primary); a primary reads its own in a second, and
      // from then on, on the same connection, in the first (queryKnownPrimary).
      try (ResultSet rs = kept(c, PROBE_QUERY).executeQuery()) {
        rs.next();
        inRecovery = rs.getBoolean(1);
        systemId = rs.getString(2);
        pending = pendingRestart(rs.getString(3));
        replica = inRecovery ? replicaState(rs, 4, systemId) : null;
      }
      if (inRecovery) {
        return replica.withParameters(null, pending);
      }
      LocalPgState s;
      try (ResultSet rs = kept(c, PRIMARY_QUERY).executeQuery()) {
        rs.next();
        s = primaryState(c, primaryRow(rs, 1), systemId);
      }
      sawPrimary = true;
      return s.withParameters(null, pending);
    }
  }

  /**
   * The probe of a server this connection has seen as a primary, in one round trip (the leader's every tick).
   * PostgreSQL leaves recovery but never goes back into it without a restart, which ends every connection;
   * should it be in recovery all the same, pg_current_wal_lsn() fails, and the caller tries a new connection.
   */
  private LocalPgState queryKnownPrimary(Connection c) throws SQLException {
    Set<String> pending;
    String systemId;
    PrimaryRow row;
    try (ResultSet rs = kept(c, KNOWN_PRIMARY_QUERY).executeQuery()) {
      rs.next();
      if (rs.getBoolean(1)) {
        throw new SQLException("in recovery on a connection that saw a primary");
      }
      systemId = rs.getString(2);
      pending = pendingRestart(rs.getString(3));
      row = primaryRow(rs, 4);
    }
    return primaryState(c, row, systemId).withParameters(null, pending);
  }

  /**
   * Forgets what the probe knew of another connection: its statements close with it, and a new connection may
   * be to another server (restarted, rewound, re-cloned), whose history is read anew. Judged by the connection
   * itself, so that no way of getting a new one can keep the old one's knowledge.
   */
  private void probing(Connection c) {
    if (probedOn != c) {
      kept.clear();
      sawPrimary = false;
      historyTimeline = 0;
      probedOn = c;
    }
  }

  /** The third common column: parameter names (which hold no comma), comma-separated; null: none. */
  private static Set<String> pendingRestart(String names) {
    return names == null ? new HashSet<>() : new HashSet<>(List.of(names.split(",")));
  }

  /**
   * The probe's statement for {@code sql} on {@code c} (the connection {@link #probing} was told of), made once
   * per connection and kept open: pgjdbc builds and closes a statement's objects each time otherwise (~4 % of an
   * idle loop thread, by async-profiler). A connection's statements close with it.
   */
  private PreparedStatement kept(Connection c, String sql) throws SQLException {
    PreparedStatement st = kept.get(sql);
    if (st == null) {
      st = c.prepareStatement(sql);
      kept.put(sql, st);
    }
    return st;
  }

  /** The last timeline history read on the probed connection, by timeline (guarded by jdbcLock; see probing). */
  private long historyTimeline;
  private List<TimelineSwitch> historyOfTimeline = List.of();

  /** What the primary's columns say, from {@code first} on (see {@link #PRIMARY_QUERY}). */
  private record PrimaryRow(Lsn lsn, long timeline, Set<String> slots, Set<String> sync, Set<String> confirmed,
      Set<String> streaming) {}

  private PrimaryRow primaryRow(ResultSet rs, int first) throws SQLException {
    Lsn lsn = Lsn.parse(rs.getString(first));
    long timeline = Long.parseLong(rs.getString(first + 1).substring(0, 8), 16);
    Set<String> slots = new HashSet<>();
    String names = rs.getString(first + 2);
    if (names != null) {
      slots.addAll(List.of(names.split(",")));
    }
    String syncNames = rs.getString(first + 3);
    if (synchronousStandbyNames == null) {
      // This agent has not set it yet: what the running server waits for is what later renders keep.
      synchronousStandbyNames = syncNames == null ? "" : syncNames;
    }
    Set<String> sync = parseSynchronousStandbyNames(syncNames);
    if (syncWaitFrom == null) {
      // This agent did not set them: count from now, as far as it can tell (a write position, never less
      // than what was flushed and so acknowledged).
      syncWaitFrom = lsn;
    }
    Set<String> confirmed = new HashSet<>(caughtUp(rs.getString(first + 4), syncWaitFrom));
    Set<String> streaming = new HashSet<>();
    String streamingNames = rs.getString(first + 5);
    if (streamingNames != null) {
      streaming.addAll(List.of(streamingNames.split(",")));
    }
    return new PrimaryRow(lsn, timeline, slots, sync, confirmed, streaming);
  }

  private LocalPgState primaryState(Connection c, PrimaryRow row, String systemId) throws SQLException {
    long timeline = row.timeline();
    List<TimelineSwitch> history = List.of();
    if (timeline > 1 && timeline == historyTimeline) {
      // A timeline's history file never changes once the timeline exists.
      history = historyOfTimeline;
    } else if (timeline > 1) {
      try (PreparedStatement ps = c.prepareStatement("SELECT pg_read_file(?)")) {
        ps.setString(1, "pg_wal/" + String.format("%08X", timeline) + ".history");
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          history = parseHistory(rs.getString(1));
        }
      }
      historyTimeline = timeline;
      historyOfTimeline = history;
    }
    return new LocalPgState(DataDirState.VALID, true, false, ControlState.UNKNOWN, systemId, timeline, row.lsn(),
        null, false, null, history, row.slots(), true, null, row.sync()).withSyncConfirmed(row.confirmed())
        .withStreamingStandbys(row.streaming());
  }

  /** What a replica reports of its replication; from {@link #replicaState}'s first column on. */
  private static final String REPLICA_COLUMNS = "pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text,"
      + " (SELECT received_tli FROM pg_stat_wal_receiver), (SELECT status FROM pg_stat_wal_receiver),"
      + " (SELECT timeline_id FROM pg_control_checkpoint()), current_setting('primary_conninfo'),"
      // After pg_rewind the last checkpoint is on the old timeline while replay already runs on the
      // new one; the minimum recovery point says which.
      + " (SELECT min_recovery_end_timeline FROM pg_control_recovery()), pg_postmaster_start_time()::text,"
      // Slots a replica holds (from a term as primary, or made for a promotion that did not happen) keep
      // its restartpoints from recycling WAL; only idle ones are reported, which the loop drops.
      + " (SELECT string_agg(slot_name, ',') FROM pg_replication_slots WHERE slot_type = 'physical' AND NOT active)";

  // The probe's statements, prepared rather than sent as plain statements: pgjdbc caches a prepared
  // statement's parse by its text (and after five uses the server keeps its plan), while a plain
  // statement is parsed anew on every tick (~8 % of an idle loop thread's CPU, by async-profiler).
  // None takes a parameter.
  /** What both roles need: recovery or not, the system id, the parameters pending a restart (no comma in a name). */
  private static final String COMMON_COLUMNS = "pg_is_in_recovery(),"
      + " (SELECT system_identifier::text FROM pg_control_system()),"
      + " (SELECT string_agg(name, ',') FROM pg_settings WHERE pending_restart), ";
  /** What both roles need and all a replica needs, in one round trip. */
  private static final String PROBE_QUERY = "SELECT " + COMMON_COLUMNS + REPLICA_COLUMNS;
  /**
   * The write position and its WAL file's name (whose first 8 hex digits are the timeline), the physical
   * slots, synchronous_standby_names, each streaming synchronous standby's flush position, and the names
   * of all streaming standbys. Slot names are [a-z0-9_] and member names (application_name)
   * [A-Za-z0-9_.-]: a comma separates them safely.
   */
  private static final String PRIMARY_COLUMNS = "l::text, pg_walfile_name(l),"
      + " (SELECT string_agg(slot_name, ',') FROM pg_replication_slots WHERE slot_type = 'physical'),"
      + " current_setting('synchronous_standby_names'),"
      + " (SELECT string_agg(application_name || ' ' || flush_lsn::text, ',') FROM pg_stat_replication"
      + " WHERE sync_state = 'sync' AND state = 'streaming'),"
      + " (SELECT string_agg(application_name, ',') FROM pg_stat_replication"
      // Other clients may name themselves anything: only what could be a member's name counts.
      + " WHERE state = 'streaming' AND application_name ~ '^[A-Za-z0-9_.-]+$')"
      + " FROM pg_current_wal_lsn() AS l";
  private static final String PRIMARY_QUERY = "SELECT " + PRIMARY_COLUMNS;
  /** What both roles need, then the primary's columns: for a connection that has seen a primary. */
  private static final String KNOWN_PRIMARY_QUERY = "SELECT " + COMMON_COLUMNS + PRIMARY_COLUMNS;
  /** Not PRIMARY_QUERY's position: that is the write position, which can run ahead of the flush. */
  private static final String PRIMARY_FLUSH_QUERY = "SELECT pg_current_wal_flush_lsn()::text";

  private LocalPgState replicaState(ResultSet rs, int first, String systemId) throws SQLException {
    Lsn received = lsnOrNull(rs.getString(first));
    Lsn replayed = lsnOrNull(rs.getString(first + 1));
    long receivedTli = rs.getLong(first + 2);
    String status = rs.getString(first + 3);
    long checkpointTli = rs.getLong(first + 4);
    String conninfo = rs.getString(first + 5);
    long minRecoveryTli = rs.getLong(first + 6);
    long timeline = rememberTimeline(rs.getString(first + 7),
        Math.max(Math.max(receivedTli, checkpointTli), minRecoveryTli));
    Lsn lsn = received == null ? replayed : replayed == null ? received : received.isAfter(replayed) ? received : replayed;
    String slotNames = rs.getString(first + 8);
    Set<String> idleSlots = slotNames == null ? Set.of() : Set.of(slotNames.split(","));
    return new LocalPgState(DataDirState.VALID, true, true, ControlState.UNKNOWN, systemId,
        timeline, lsn, replayed, "streaming".equals(status), upstreamOfCached(conninfo),
        null, idleSlots, true, null);
  }

  /**
   * A running replica's timeline never goes back, but what PostgreSQL shows of it does: the WAL
   * receiver's row vanishes when its upstream stops, and the last checkpoint may still be on an older
   * timeline. So the highest timeline seen since this postmaster started is kept.
   */
  private synchronized long rememberTimeline(String postmasterStart, long seen) {
    if (!Objects.equals(postmasterStart, timelineOfStart)) {
      timelineOfStart = postmasterStart;
      highestTimeline = 0;
    }
    highestTimeline = Math.max(highestTimeline, seen);
    return highestTimeline;
  }

  /** {@link #upstreamOf}, parsed again only when primary_conninfo changed: every replica tick asks. */
  private String upstreamOfCached(String conninfo) {
    if (!Objects.equals(conninfo, lastConninfo)) {
      lastUpstream = upstreamOf(conninfo);
      lastConninfo = conninfo;
    }
    return lastUpstream;
  }

  /** {@code host:port} of a primary_conninfo, null when it names no host. */
  static String upstreamOf(String conninfo) {
    if (conninfo == null || conninfo.isBlank()) {
      return null;
    }
    Map<String, String> kv = PgText.parseConninfo(conninfo);
    String host = kv.get("host");
    if (host == null || host.isEmpty()) {
      host = kv.get("hostaddr");
    }
    if (host == null || host.isEmpty()) {
      return null;
    }
    String port = kv.getOrDefault("port", "5432");
    return host + ":" + (port.isEmpty() ? "5432" : port);
  }

  /** Parses a timeline history file: {@code parentTLI<TAB>switchpoint<TAB>reason} per line. */
  static List<TimelineSwitch> parseHistory(String text) {
    List<TimelineSwitch> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      String[] f = l.split("\\s+", 3);
      if (f.length < 2) {
        throw new IllegalArgumentException("bad timeline history line: '" + l + "'");
      }
      out.add(new TimelineSwitch(Long.parseLong(f[0]), Lsn.parse(f[1])));
    }
    return out;
  }

  private static Lsn lsnOrNull(String s) {
    return s == null ? null : Lsn.parse(s);
  }

  // ---------------------------------------------------------------------------------------------
  // Config files

  /** The settings pgwarden.conf holds, in order; user parameters override the managed defaults. */
  Map<String, String> managedSettings(StartMode mode, ReplicationSource upstream) {
    return managedSettings(mode, upstream, dynamicParameters);
  }

  Map<String, String> managedSettings(StartMode mode, ReplicationSource upstream, Map<String, String> dynamic) {
    Map<String, String> s = new LinkedHashMap<>();
    s.put("listen_addresses", cfg.listen().host());
    s.put("port", Integer.toString(cfg.listen().port()));
    s.put("unix_socket_directories", socketDir.toString());
    s.put("wal_level", "replica");
    s.put("hot_standby", "on");
    s.put("max_wal_senders", "10");
    s.put("max_replication_slots", "10");
    s.put("wal_keep_size", "256MB");
    s.put("wal_log_hints", "on");
    s.put("hot_standby_feedback", "on");
    // A standby whose walreceiver could not start (its new primary had not made its slot yet, or was not up)
    // tries again after this; PostgreSQL's 5 s left a standby whose slot the new primary had not made yet
    // out of its synchronous set for 5 s after a switchover, with commits acknowledged by the primary alone.
    s.put("wal_retrieve_retry_interval", "1s");
    s.put("password_encryption", "scram-sha-256");
    s.put("cluster_name", member);
    // Managed by the lock holder. A replica's value only matters from its promotion on: in synchronous
    // mode the hold, so that the new primary acknowledges nothing until its topology is recorded (see promote).
    s.put("synchronous_standby_names",
        mode == StartMode.PRIMARY ? currentSynchronousStandbyNames() : holdOnPromote ? HOLD : "");
    // Patroni's precedence: the cluster-wide /config parameters over pgwarden's defaults, the node's
    // own config file over both (so one node can differ, e.g. in memory settings).
    dynamic.forEach(s::put);
    cfg.parameters().forEach((k, v) -> s.put(k, String.valueOf(v)));
    rejected.forEach((k, r) -> {
      if (r.value().equals(s.get(k))) {
        if (r.fallback() == null) {
          s.remove(k);
        } else {
          s.put(k, r.fallback());
        }
      }
    });
    if (mode == StartMode.REPLICA) {
      if (upstream == null) {
        s.put("primary_conninfo", "");
        s.put("primary_slot_name", "");
      } else {
        Map<String, String> ci = new LinkedHashMap<>();
        ci.put("host", upstream.host());
        ci.put("port", Integer.toString(upstream.port()));
        ci.put("user", replication.username());
        ci.put("passfile", pgpassFile.toString());
        ci.put("application_name", member);
        ci.put("connect_timeout", "5");
        s.put("primary_conninfo", PgText.conninfo(ci));
        s.put("primary_slot_name", SlotNames.of(member));
      }
    }
    // On both roles, although a primary ignores it: a setting that only takes effect at server start
    // and leaves the file at a promotion shows as pending_restart until PostgreSQL restarts, and every
    // new primary would be listed as needing a restart it does not need.
    s.put("recovery_target_timeline", "latest");
    return s;
  }

  static String renderConf(Map<String, String> settings) {
    StringBuilder b = new StringBuilder(
        "# Written by pgwarden on every start; changes here are lost. Set parameters in the agent config.\n");
    settings.forEach((k, v) -> b.append(k).append(" = ").append(PgText.gucString(v)).append('\n'));
    return b.toString();
  }

  List<String> hbaLines() {
    return hbaLines(replicationHosts);
  }

  /**
   * Clients may connect from anywhere with a password; replication only as the replication role and
   * only from {@code hosts} (the members' addresses and loopback). An operator's own pg_hba wins.
   */
  List<String> hbaLines(Set<String> hosts) {
    if (!cfg.pgHba().isEmpty()) {
      return cfg.pgHba();
    }
    String repl = PgText.hbaUser(replication.username());
    List<String> l = new ArrayList<>();
    l.add("local all all scram-sha-256");
    boolean byName = false;
    for (String h : new java.util.TreeSet<>(hosts)) {
      if (hbaAddress(h).equals(h)) {
        byName = true;
        continue;
      }
      l.add("host replication " + repl + " " + hbaAddress(h) + " scram-sha-256");
    }
    if (byName) {
      // PostgreSQL matches a host name in pg_hba.conf by reverse DNS of the client, which container
      // networks answer with other names: members known only by name may replicate from any address,
      // still only as the replication role and with its password.
      l.add("host replication " + repl + " 0.0.0.0/0 scram-sha-256");
      l.add("host replication " + repl + " ::/0 scram-sha-256");
    }
    for (String net : List.of("127.0.0.1/32", "::1/128", "0.0.0.0/0", "::/0")) {
      l.add("host all all " + net + " scram-sha-256");
    }
    return l;
  }

  /** An IP address as a single-host CIDR; a host name as it is (PostgreSQL resolves it). */
  static String hbaAddress(String host) {
    if (host.contains(":")) {
      return host + "/128";
    }
    return host.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}") ? host + "/32" : host;
  }

  private void writeConfig(StartMode mode, ReplicationSource upstream) throws IOException {
    Path conf = dataDir.resolve("postgresql.conf");
    String text = Files.exists(conf) ? Files.readString(conf, StandardCharsets.UTF_8) : "";
    String withInclude = withInclude(text);
    if (!withInclude.equals(text)) {
      writePrivateFile(conf, withInclude, dataDir);
    }
    Map<String, String> dynamic = dynamicParameters;
    Map<String, String> settings = managedSettings(mode, upstream, dynamic);
    writePrivateFile(dataDir.resolve(MANAGED_CONF), renderConf(settings), dataDir);
    // PostgreSQL reads the file on the start or reload that follows; if that fails, the caller
    // forgets it again so the next quiet tick reloads.
    appliedParameters = dynamic;
    Set<String> hosts = replicationHosts;
    writePrivateFile(dataDir.resolve("pg_hba.conf"),
        "# Written by pgwarden on every start and membership change; set pg_hba in the agent config.\n"
            + String.join("\n", hbaLines(hosts)) + "\n", dataDir);
    appliedReplicationHosts = hosts;
    // recovery.signal would start a targeted archive recovery, which pgwarden never asks for.
    Files.deleteIfExists(dataDir.resolve("recovery.signal"));
    Path signal = dataDir.resolve("standby.signal");
    if (mode == StartMode.REPLICA) {
      writePrivateFile(signal, "", dataDir);
      writePgpass();
    } else {
      Files.deleteIfExists(signal);
    }
  }

  /** {@code text} ending with exactly one include of pgwarden.conf, so our settings come last. */
  static String withInclude(String text) {
    String kept = Stream.of(text.split("\n", -1)).filter(l -> !l.strip().equals(INCLUDE_LINE))
        .collect(Collectors.joining("\n"));
    kept = kept.stripTrailing();
    return (kept.isEmpty() ? "" : kept + "\n") + INCLUDE_LINE + "\n";
  }

  private void writeConfigOrThrow(String what, StartMode mode, ReplicationSource upstream) {
    try {
      writeConfig(mode, upstream);
    } catch (IOException | RuntimeException e) {
      throw new PostgresCommandException(what, "writing config files in " + dataDir + ": " + e, e);
    }
  }

  private void writePgpass() throws IOException {
    StringBuilder b = new StringBuilder();
    for (Credentials c : List.of(replication, superuser)) {
      if (c.password() != null) {
        b.append(PgText.pgpassLine(c.username(), c.password())).append('\n');
      }
    }
    writePrivateFile(pgpassFile, b.toString(), parentDir);
  }

  private void writePgpassOrThrow(String what) {
    try {
      writePgpass();
    } catch (IOException e) {
      throw new PostgresCommandException(what, "writing " + pgpassFile + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes {@code target} atomically, mode 0600, owned like {@code ownerDir}: PostgreSQL and its
   * programs must be able to read and overwrite what the agent wrote even when the agent runs as
   * another user (e.g. root in tests).
   */
  private static void writePrivateFile(Path target, String content, Path ownerDir) throws IOException {
    Path tmp = target.resolveSibling("." + target.getFileName() + ".pgwarden-tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.writeString(tmp, content, StandardCharsets.UTF_8);
      matchOwner(tmp, ownerDir);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static void matchOwner(Path p, Path like) throws IOException {
    PosixFileAttributes want = Files.readAttributes(like, PosixFileAttributes.class);
    PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
    PosixFileAttributes have = view.readAttributes();
    if (!have.owner().equals(want.owner())) {
      view.setOwner(want.owner());
    }
    if (!have.group().equals(want.group())) {
      view.setGroup(want.group());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Data directory

  DataDirState dataDirState() {
    // The usual case first, in one stat and without listing the directory: this runs on every tick. A
    // pg_control under it means the data directory exists and is a directory.
    if (Files.exists(pgControl)) {
      return DataDirState.VALID;
    }
    if (!Files.exists(dataDir)) {
      return DataDirState.EMPTY;
    }
    if (!Files.isDirectory(dataDir)) {
      return DataDirState.INVALID;
    }
    try (Stream<Path> entries = Files.list(dataDir)) {
      return entries.findAny().isEmpty() ? DataDirState.EMPTY : DataDirState.INVALID;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Moves a complete {@code fresh} directory into place; a non-empty old one is moved aside. */
  private void installFresh(Path fresh, String what) {
    try {
      if (Files.isDirectory(dataDir)) {
        boolean empty;
        try (Stream<Path> entries = Files.list(dataDir)) {
          empty = entries.findAny().isEmpty();
        }
        if (empty) {
          Files.delete(dataDir);
        } else {
          Path aside = sibling(".old-" + LocalDateTime.now().format(ASIDE_STAMP));
          Files.move(dataDir, aside, StandardCopyOption.ATOMIC_MOVE);
          log.info("moved the previous data directory aside to {}", aside);
        }
      } else if (Files.exists(dataDir)) {
        Path aside = sibling(".old-" + LocalDateTime.now().format(ASIDE_STAMP));
        Files.move(dataDir, aside, StandardCopyOption.ATOMIC_MOVE);
        log.info("moved {} (not a directory) aside to {}", dataDir, aside);
      }
      Files.move(fresh, dataDir, StandardCopyOption.ATOMIC_MOVE);
      postmaster = null; // it ran on the directory moved aside, if on any
      Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
      Files.deleteIfExists(rewindMarker());
    } catch (IOException e) {
      throw new PostgresCommandException(what, "moving " + fresh + " into place: " + e, e);
    }
  }

  /** Whether postmaster.pid names a live postgres process. */
  boolean postmasterAlive() {
    // While the postmaster found last time runs (ProcessHandle knows it by pid and start time) and the
    // pid file is the one it was found by, reading the file again and asking /proc for its command on
    // every tick tells nothing new, at ~10 % of an idle replica's loop. The file too, because an exited
    // postmaster stays a process until its parent reaps it, which some PID 1s do late or never: a clean
    // stop removes the file, and a new postmaster writes its own. (PostgreSQL also rewrites a status line
    // in it while starting and stopping; that only costs a read.) java.io.File: one call, where this runs
    // interpreted.
    Found known = postmaster;
    if (known != null && known.process().isAlive() && pidFileAsFile.lastModified() == known.pidFileTime()) {
      return true;
    }
    postmaster = null;
    long pidFileTime = pidFileAsFile.lastModified();
    Path pidFile = pidFileAsFile.toPath();
    String first;
    // The bytes, not a reader or Files.lines: this runs on every tick, and a charset decoder with two 8-KB
    // buffers (or a stream pipeline) costs more than the read. The first line is the pid, in ASCII.
    try {
      byte[] content = Files.readAllBytes(pidFile);
      int end = 0;
      while (end < content.length && content[end] != '\n') {
        end++;
      }
      first = new String(content, 0, end, StandardCharsets.ISO_8859_1).strip();
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException | UncheckedIOException e) {
      throw new UncheckedIOException(new IOException("reading " + pidFile + ": " + e.getMessage(), e));
    }
    long pid;
    try {
      pid = Long.parseLong(first);
    } catch (NumberFormatException e) {
      return false; // being written or truncated: the postmaster is not up (yet)
    }
    Optional<ProcessHandle> h = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    // After a reboot the pid may belong to something else; only a postgres binary counts.
    boolean alive = h.isPresent() && h.get().info().command().map(c -> c.endsWith("postgres")).orElse(true);
    if (alive) {
      postmaster = new Found(h.get(), pidFileTime);
    }
    return alive;
  }

  /** For actions: an unreadable pid file is a failed command, not a crash of the loop. */
  private boolean alive() {
    try {
      return postmasterAlive();
    } catch (UncheckedIOException e) {
      throw new PostgresCommandException("postmaster.pid", e.getCause().getMessage(), e);
    }
  }

  private DataDirState dataDirStateChecked() {
    try {
      return dataDirState();
    } catch (UncheckedIOException e) {
      throw new PostgresCommandException("inspect " + dataDir, e.getCause().getMessage(), e);
    }
  }

  private boolean safePostmasterAlive() {
    try {
      return postmasterAlive();
    } catch (RuntimeException e) {
      return false;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // JDBC

  /** "t" or "f" as pg_is_in_recovery() answers on the kept connection, else why it could not be asked. */
  private String inRecovery() {
    synchronized (jdbcLock) {
      try (Statement st = connection().createStatement();
          ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
        return !rs.next() ? "no answer to pg_is_in_recovery()" : rs.getBoolean(1) ? "t" : "f";
      } catch (SQLException e) {
        closeConnection();
        return e.getMessage();
      }
    }
  }

  private Connection connection() throws SQLException {
    synchronized (jdbcLock) {
      if (conn != null && !conn.isClosed()) {
        return conn;
      }
      conn = DriverManager.getConnection(jdbcUrl, connectionProperties(SOCKET_TIMEOUT_S));
      return conn;
    }
  }

  /** The superuser's, for a connection whose statements may each take up to {@code socketTimeoutS}. */
  private Properties connectionProperties(long socketTimeoutS) {
    Properties p = new Properties();
    p.setProperty("user", superuser.username());
    if (superuser.password() != null) {
      p.setProperty("password", superuser.password());
    }
    p.setProperty("connectTimeout", Integer.toString(CONNECT_TIMEOUT_S));
    p.setProperty("loginTimeout", Integer.toString(CONNECT_TIMEOUT_S));
    p.setProperty("socketTimeout", Long.toString(socketTimeoutS));
    p.setProperty("ApplicationName", "pgwarden-" + member);
    return p;
  }

  /** pg_current_wal_flush_lsn(); null when it cannot be read (the next probe then counts from its position). */
  private Lsn currentFlushPosition() {
    synchronized (jdbcLock) {
      try (PreparedStatement st = connection().prepareStatement(PRIMARY_FLUSH_QUERY);
          ResultSet rs = st.executeQuery()) {
        return rs.next() ? Lsn.parse(rs.getString(1)) : null;
      } catch (SQLException e) {
        closeConnection();
        return null;
      }
    }
  }

  /** current_setting(name) of the running server; null when it cannot be read. */
  private String runningSetting(String name) {
    synchronized (jdbcLock) {
      try (PreparedStatement st = connection().prepareStatement("SELECT current_setting(?)")) {
        st.setString(1, name);
        try (ResultSet rs = st.executeQuery()) {
          return rs.next() ? rs.getString(1) : null;
        }
      } catch (SQLException e) {
        closeConnection();
        return null;
      }
    }
  }

  private void execute(String sql) throws SQLException {
    synchronized (jdbcLock) {
      try (Statement st = connection().createStatement()) {
        st.execute(sql);
      } catch (SQLException e) {
        closeConnection();
        throw e;
      }
    }
  }

  private void closeConnection() {
    synchronized (jdbcLock) {
      if (conn != null) {
        try {
          conn.close();
        } catch (SQLException e) {
          log.debug("closing a broken connection: {}", e.getMessage());
        }
        conn = null;
      }
      probing(null);
    }
  }

  @Override
  public void close() {
    closeConnection();
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  /**
   * Whether pg_rewind provably stopped before it changed the target: it connects to its source before
   * it touches anything, and libpq's connect error is the only thing it printed. Anything else (a
   * timeout, a connection lost mid-way, an unknown message) counts as a rewind that may have begun.
   */
  static boolean failedBeforeTouchingTarget(PostgresCommandException e) {
    String err = e.stderrTail();
    return e.exitCode() > 0 && err != null && err.contains("error: connection to server at ")
        && err.contains(" failed: ") && !err.contains("servers diverged") && !err.contains("rewinding from")
        && !err.contains("reading source file list") && !err.contains("reading target file list");
  }

  @Override
  public boolean rewindIncomplete() {
    return Files.exists(rewindMarker());
  }

  private Path rewindMarker() {
    return rewindMarker;
  }

  private void deleteMarker(String what) {
    try {
      Files.deleteIfExists(rewindMarker());
    } catch (IOException e) {
      throw new PostgresCommandException(what, "removing " + rewindMarker() + ": " + e.getMessage(), e);
    }
  }

  private Path sibling(String suffix) {
    return dataDir.resolveSibling(dataDir.getFileName() + suffix);
  }

  private String bin(String program) {
    return binDir.resolve(program).toString();
  }

  private Map<String, String> env() {
    return Map.of("LC_ALL", "C", "LANG", "C", "PGPASSFILE", pgpassFile.toString());
  }

  private static String jdbcHost(HostPort listen) {
    String h = listen.host();
    if (h.equals("0.0.0.0") || h.equals("*") || h.isEmpty()) {
      return "127.0.0.1";
    }
    if (h.equals("::")) {
      return "[::1]";
    }
    return h.contains(":") ? "[" + h + "]" : h;
  }

  /** The data directory's parent, unless the socket path would exceed the kernel's 107 bytes. */
  private static Path chooseSocketDir(Path parent, int port) {
    String lock = parent + "/.s.PGSQL." + port + ".lock";
    if (lock.getBytes(StandardCharsets.UTF_8).length <= MAX_SOCKET_PATH) {
      return parent;
    }
    log.warn("socket path under {} would exceed {} bytes; using /tmp", parent, MAX_SOCKET_PATH);
    return Path.of("/tmp");
  }

  /**
   * {@code pg_ctl stop -m MODE} without pg_ctl's wait (-W), then the agent's own wait until the postmaster is
   * gone (its pid file removed, or the process dead), looking as {@link ServerPoll} does: pg_ctl looks every
   * 100 ms (PostgreSQL 15) where a fast stop of an idle server takes tens of milliseconds, and a switchover
   * hands the leader key over only after it.
   *
   * @return null once the postmaster is gone; otherwise why it is not
   */
  private String stopAndAwait(String mode, Duration bound) {
    // Sending a signal takes no time; a pg_ctl that hangs (a hung disk) must not hold up the escalation.
    ProcessRunner.Result r = runner.run(List.of(bin("pg_ctl"), "stop", "-D", dataDir.toString(), "-m", mode, "-W"),
        env(), parentDir, bound.plusSeconds(10));
    ServerPoll poll = new ServerPoll(bound);
    while (alive()) {
      if (!r.ok()) {
        // No signal went out (or pg_ctl cannot tell): waiting would only delay the escalation.
        return "pg_ctl exited with code " + r.exitCode() + (r.timedOut() ? ", timed out" : "")
            + (r.stderrTail() == null || r.stderrTail().isBlank() ? "" : ": " + r.stderrTail().strip());
      }
      if (poll.expired()) {
        return "still running " + bound.toSeconds() + " s after the signal";
      }
      if (!poll.pause()) {
        return "interrupted while waiting for it to stop";
      }
    }
    return null;
  }

  /**
   * The waits of {@link #stopAndAwait} and {@link #awaitEndOfRecovery}: {@link #SERVER_POLL} for
   * {@link #SERVER_POLL_FLAT}, then twice the last wait, up to {@link #SERVER_POLL_MAX}, until a bound. What the
   * server does in between takes tens of milliseconds, and every write of the cluster may be waiting for it.
   */
  private static final class ServerPoll {
    private final long deadline;
    private final long flatUntil;
    private long waitMillis = SERVER_POLL.toMillis();

    ServerPoll(Duration bound) {
      long now = System.nanoTime();
      deadline = now + bound.toNanos();
      flatUntil = now + SERVER_POLL_FLAT.toNanos();
    }

    boolean expired() {
      return System.nanoTime() - deadline > 0;
    }

    /** Sleeps the next wait; false when interrupted (the thread's interrupt flag is set again). */
    boolean pause() {
      try {
        Thread.sleep(waitMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
      if (System.nanoTime() - flatUntil > 0) {
        waitMillis = Math.min(waitMillis * 2, SERVER_POLL_MAX.toMillis());
      }
      return true;
    }
  }

  /**
   * Until the server answers as a primary: it looks at once, then as {@link ServerPoll} does. A postmaster
   * that died meanwhile (recovery failing at its end: a full disk, an unwritable timeline file) fails it at
   * once, as pg_ctl's own wait did. Its failures name the promotion, not pg_ctl: pg_ctl only sent the
   * signal, and said so.
   */
  private void awaitEndOfRecovery() {
    ServerPoll poll = new ServerPoll(PROMOTE_CONFIRM);
    while (true) {
      // pg_is_in_recovery() alone, not the whole probe: it runs every 10 ms on the node that is promoting,
      // beside the server's own work, and the loop probes in full right after.
      String inRecovery = inRecovery();
      if ("f".equals(inRecovery)) {
        return;
      }
      String why = "t".equals(inRecovery) ? "" : " (" + inRecovery + ")";
      if (!safePostmasterAlive()) {
        // The probe cannot say why; the server's own log can (its last FATAL or PANIC).
        throw new PostgresCommandException("promotion", "PostgreSQL stopped while promoting" + why
            + "; its log " + logFile + " says why", null);
      }
      if (poll.expired()) {
        throw new PostgresCommandException("promotion", "still in recovery after " + PROMOTE_CONFIRM + why, null);
      }
      if (!poll.pause()) {
        throw new PostgresCommandException("promotion", "interrupted while waiting for the end of recovery", null);
      }
    }
  }

  /**
   * pg_control's state, which needs no login: with it, a server the agent cannot log in to (a wrong
   * password in its config) is known to be a standby, which takes no writes, and is left running instead
   * of stopped and started every few seconds.
   */
  private ControlState controlStateOrUnknown() {
    try {
      return PgControlData.read(runner, binDir, dataDir, parentDir).state();
    } catch (RuntimeException e) {
      return ControlState.UNKNOWN;
    }
  }

  private static long sizeOf(Path file) {
    try {
      return Files.isRegularFile(file) ? Files.size(file) : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  /**
   * The last two FATAL or PANIC lines the server wrote to {@code file} from byte {@code from} on (read from at
   * most its last 64 KiB), joined; empty when there are none or the file cannot be read.
   */
  static String serverSaid(Path file, long from) {
    try (java.nio.channels.SeekableByteChannel ch = Files.newByteChannel(file)) {
      long start = Math.max(from, ch.size() - 65536);
      if (start >= ch.size()) {
        return "";
      }
      ch.position(start);
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate((int) (ch.size() - start));
      while (buf.hasRemaining() && ch.read(buf) > 0) {
        // read to the end
      }
      List<String> lines = new ArrayList<>();
      for (String line : new String(buf.array(), 0, buf.position(), java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
        int at = Math.max(line.indexOf("FATAL:"), line.indexOf("PANIC:"));
        if (at >= 0) {
          lines.add(line.substring(at).strip());
        }
      }
      return String.join(" / ", lines.subList(Math.max(0, lines.size() - 2), lines.size()));
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.delete(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
        if (exc != null) {
          throw exc;
        }
        Files.delete(dir);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  private static void deleteQuietly(Path p) {
    try {
      deleteTree(p);
    } catch (IOException e) {
      log.warn("could not remove {}: {}", p, e.getMessage());
    }
  }
}
