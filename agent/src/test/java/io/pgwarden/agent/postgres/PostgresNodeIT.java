package io.pgwarden.agent.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgwarden.agent.port.PostgresCommandException;
import io.pgwarden.agent.port.ReplicationSource;
import io.pgwarden.common.config.Credentials;
import io.pgwarden.common.config.HostPort;
import io.pgwarden.common.config.PostgresConfig;
import io.pgwarden.common.decide.Action.StartMode;
import io.pgwarden.common.decide.DemoteMode;
import io.pgwarden.common.model.ControlState;
import io.pgwarden.common.model.DataDirState;
import io.pgwarden.common.model.LocalPgState;
import io.pgwarden.common.model.Lsn;
import io.pgwarden.common.model.TimelineSwitch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * PostgresNode against real PostgreSQL 15: bootstrap, clone, stream, promote, diverge, rewind,
 * rejoin. The steps build on each other, so they run in order on shared nodes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(OrderAnnotation.class)
class PostgresNodeIT {
  private static final String BIN = "/usr/lib/postgresql/15/bin";
  /** PostgreSQL refuses to run as root; when the tests do, its programs run as postgres. */
  private static final boolean ROOT = "root".equals(System.getProperty("user.name"));
  private static final List<String> AS_POSTGRES =
      List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--");
  private static final Duration LONG = Duration.ofSeconds(90);

  // Quotes, colons and backslashes: they must survive pgpass, conninfo and SQL quoting.
  private static final String SU_PASSWORD = "su-p'ass:w\\rd";
  private static final String REPL_PASSWORD = "re:pl-p'a\\ss";
  private static final String WRONG_PASSWORD = "definitely-wrong-Xyz42";
  private static final Credentials SU = new Credentials("postgres", SU_PASSWORD, null, null);
  private static final Credentials REPL = new Credentials("replicator", REPL_PASSWORD, null, null);

  private final ProcessRunner runner = new ProcessRunner(ROOT ? AS_POSTGRES : List.of());
  private final List<PostgresNode> nodes = new ArrayList<>();
  private final Map<PostgresNode, Integer> ports = new java.util.HashMap<>();
  private final Map<PostgresNode, PostgresConfig> configs = new java.util.HashMap<>();
  private Path base;
  private PostgresNode a;
  private PostgresNode b;
  private ReplicationSource srcA;
  private ReplicationSource srcB;
  private Lsn divergedAt;

  @BeforeAll
  void createNodes() throws IOException {
    base = Files.createTempDirectory("pgw-it");
    // Traversable by postgres, which needs to reach its node directories inside.
    Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
    a = node("a", SU, REPL);
    b = node("b", SU, REPL);
    srcA = new ReplicationSource("a", "127.0.0.1", port(a));
    srcB = new ReplicationSource("b", "127.0.0.1", port(b));
  }

  @AfterAll
  void destroyNodes() throws IOException {
    for (PostgresNode n : nodes) {
      n.close();
      if (Files.exists(n.dataDir().resolve("postmaster.pid"))) {
        runner.run(List.of(BIN + "/pg_ctl", "stop", "-D", n.dataDir().toString(), "-m", "immediate", "-w"),
            Map.of(), n.dataDir().getParent(), Duration.ofSeconds(60));
      }
    }
    if (base != null) {
      try (Stream<Path> all = Files.walk(base)) {
        all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  @Order(1)
  void bootstrapsAPrimary() {
    assertThat(a.probe().dataDir()).isEqualTo(DataDirState.EMPTY);

    a.initdb();
    a.initdb(); // a valid cluster is left alone
    a.start(StartMode.PRIMARY, null);
    a.start(StartMode.PRIMARY, null); // already running as primary: no-op
    a.promote(false); // already primary: no-op
    a.ensureReplicationRole();
    a.ensureReplicationRole(); // the role exists now: ALTER, not CREATE
    a.ensureSlots(Set.of("b", "stale"));
    a.ensureSlots(Set.of("b")); // "stale" is inactive and unwanted: dropped

    LocalPgState s = a.probe();
    assertThat(s.probeError()).isNull();
    assertThat(s.runningAsPrimary()).isTrue();
    assertThat(s.dataDir()).isEqualTo(DataDirState.VALID);
    assertThat(s.timeline()).isEqualTo(1L);
    assertThat(s.systemId()).isNotBlank();
    assertThat(s.lsn()).isNotNull();
    assertThat(s.history()).isEmpty();
    assertThat(s.slots()).containsExactly("b");
    assertThat(Files.exists(a.dataDir().resolve("standby.signal"))).isFalse();
  }

  @Test
  @Order(2)
  void wrongReplicationPasswordFailsTheBaseBackupWithoutShowingIt() throws IOException {
    Credentials wrong = new Credentials("replicator", WRONG_PASSWORD, null, null);
    PostgresNode c = node("c", SU, wrong);

    assertThatThrownBy(() -> c.baseBackup(srcA))
        .isInstanceOf(PostgresCommandException.class)
        .hasMessageContaining("pg_basebackup")
        .hasMessageContaining("password authentication failed")
        .hasMessageNotContaining(WRONG_PASSWORD)
        .hasMessageNotContaining(REPL_PASSWORD);
    assertThat(c.probe().dataDir()).isEqualTo(DataDirState.EMPTY);
    assertThat(Files.exists(c.dataDir().resolveSibling("data.new"))).isFalse();
  }

  @Test
  @Order(3)
  void replicaClonesAndStreams() throws SQLException {
    b.baseBackup(srcA);
    // pg_control of a fresh copy is the primary's ("in production"); only backup_label tells it apart.
    LocalPgState copied = b.probe();
    assertThat(copied.controlState()).isEqualTo(ControlState.BASE_BACKUP);
    assertThat(copied.controlState().lastRanAsPrimary()).isFalse();
    b.start(StartMode.REPLICA, srcA);
    exec(a, "CREATE TABLE t (v text PRIMARY KEY)", "INSERT INTO t VALUES ('before-failover')");

    await().atMost(LONG).untilAsserted(() -> assertThat(values(b)).contains("before-failover"));
    await().atMost(LONG).untilAsserted(() -> assertThat(b.probe().streaming()).isTrue());
    LocalPgState s = b.probe();
    assertThat(s.runningAsReplica()).isTrue();
    assertThat(s.upstream()).isEqualTo(srcA.hostPort());
    assertThat(s.systemId()).isEqualTo(a.probe().systemId());
    assertThat(s.timeline()).isEqualTo(1L);
    assertThat(s.replayedLsn()).isNotNull();
    assertThat(Files.exists(b.dataDir().resolve("standby.signal"))).isTrue();
    await().atMost(LONG).untilAsserted(() -> assertThat(a.probe().streamingStandbys())
        .as("the primary's own view, by the member's application_name").containsExactly("b"));

    b.start(StartMode.REPLICA, srcA); // already a replica of A: no-op
    b.follow(srcA); // same upstream: no-op
  }

  @Test
  @Order(4)
  void promotedReplicaMovesToTimelineTwo() throws SQLException {
    // Dirty pages on b for the checkpoint a promotion starts, which writes them spread over checkpoint_timeout
    // (100 ms a page while it is ahead of schedule): ~800 pages, a minute or more, so it lasts past the steps
    // up to the rewind however slow the machine.
    exec(a, "CREATE TABLE bulk AS SELECT md5(g::text) AS v FROM generate_series(1, 100000) g");
    String written = single(a, "SELECT pg_current_wal_lsn()::text");
    await().atMost(LONG).until(() -> "t".equals(single(b, "SELECT pg_last_wal_replay_lsn() >= '" + written + "'::pg_lsn")));

    // A promotion's standbys' slots are made on the replica, just before it promotes, WAL reserved.
    b.makeSlots(Set.of("a"));
    b.makeSlots(Set.of("a")); // there already: nothing to do
    assertThat(single(b, "SELECT string_agg(slot_name || ' ' || (restart_lsn IS NOT NULL), ',') FROM pg_replication_slots"))
        .isEqualTo("a true");
    assertThat(b.probe().slots()).as("idle on a replica, so reported").containsExactly("a");
    b.promote(false);
    assertThat(checkpointTimeline(b)).as("promote() does not wait for the checkpoint the promotion starts").isEqualTo(1);
    b.ensureSlots(Set.of("a"));

    LocalPgState s = b.probe();
    assertThat(s.runningAsPrimary()).isTrue();
    assertThat(s.timeline()).isEqualTo(2L);
    assertThat(s.history()).hasSize(1);
    TimelineSwitch sw = s.history().get(0);
    assertThat(sw.parent()).isEqualTo(1L);
    assertThat(sw.switchLsn()).isNotNull().isNotEqualTo(Lsn.ZERO);
    divergedAt = sw.switchLsn();
    assertThat(Files.exists(b.dataDir().resolve("standby.signal"))).isFalse();

    // The probe's connection has now seen a primary, which it stays until a restart ends the connection: from
    // the next probe on, the leader's tick asks in one statement what took two, with the same answer.
    LocalPgState again = b.probe();
    assertThat(lastStatementOfTheProbe(b, "b")).startsWith("SELECT pg_is_in_recovery()").contains("pg_current_wal_lsn()");
    assertThat(again.probeError()).isNull();
    assertThat(again.runningAsPrimary()).isTrue();
    assertThat(again.systemId()).isEqualTo(s.systemId());
    assertThat(again.timeline()).isEqualTo(2L);
    assertThat(again.history()).isEqualTo(s.history());
    assertThat(again.slots()).isEqualTo(s.slots());
    assertThat(again.syncStandbys()).isEqualTo(s.syncStandbys());
    assertThat(again.pendingRestart()).isEqualTo(s.pendingRestart());
    assertThat(s.lsn().isAfter(again.lsn())).isFalse();
  }

  /** What the probe's own session ran last (its application_name names the member). */
  private String lastStatementOfTheProbe(PostgresNode n, String member) throws SQLException {
    return single(n, "SELECT query FROM pg_stat_activity WHERE application_name = 'pgwarden-" + member + "'");
  }

  @Test
  @Order(5)
  void oldPrimaryDivergesAndStops() throws SQLException {
    exec(a, "INSERT INTO t VALUES ('diverged-on-a')");
    exec(b, "INSERT INTO t VALUES ('after-failover')");

    a.stop(DemoteMode.FAST);
    a.stop(DemoteMode.FAST); // already stopped: no-op
    a.stop(DemoteMode.IMMEDIATE); // likewise

    LocalPgState s = a.probe();
    assertThat(s.probeError()).isNull();
    assertThat(s.running()).isFalse();
    assertThat(s.postmasterAlive()).isFalse();
    assertThat(s.dataDir()).isEqualTo(DataDirState.VALID);
    assertThat(s.controlState()).isEqualTo(ControlState.SHUT_DOWN);
    assertThat(s.controlState().lastRanAsPrimary()).isTrue();
    assertThat(s.timeline()).isEqualTo(1L);
    assertThat(s.lsn().isAfter(divergedAt)).isTrue();
  }

  @Test
  @Order(6)
  void oldPrimaryIsRewoundAndRejoinsAsReplica() throws SQLException {
    // Still on timeline 1, b's pg_control would show pg_rewind no fork: the rewind's own CHECKPOINT on b is
    // what lets it see one.
    assertThat(checkpointTimeline(b)).isEqualTo(1);
    a.rewind(srcB);
    assertThat(checkpointTimeline(b)).isEqualTo(2);
    a.start(StartMode.REPLICA, srcB);
    exec(b, "INSERT INTO t VALUES ('after-rejoin')");

    await().atMost(LONG).untilAsserted(() -> {
      LocalPgState s = a.probe();
      assertThat(s.runningAsReplica()).isTrue();
      assertThat(s.streaming()).isTrue();
      assertThat(s.timeline()).isEqualTo(2L);
      assertThat(s.upstream()).isEqualTo(srcB.hostPort());
    });
    await().atMost(LONG).untilAsserted(() ->
        assertThat(values(a)).containsExactlyInAnyOrder("before-failover", "after-failover", "after-rejoin"));

    // A slot on a replica (as one made for a promotion that did not happen) is reported while idle, and goes.
    exec(a, "SELECT pg_create_physical_replication_slot('left_over', true)");
    assertThat(a.probe().slots()).containsExactly("left_over");
    a.ensureSlots(Set.of());
    assertThat(a.probe().slots()).isEmpty();
  }

  @Test
  @Order(7)
  void noPasswordIsWrittenAnywhereButThePgpassFiles() throws IOException {
    List<String> offenders = new ArrayList<>();
    try (Stream<Path> all = Files.walk(base)) {
      for (Path p : (Iterable<Path>) all.filter(Files::isRegularFile)::iterator) {
        if (p.getFileName().toString().endsWith(".pgpass")) {
          continue;
        }
        String text = new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1);
        for (String pw : List.of(SU_PASSWORD, REPL_PASSWORD, WRONG_PASSWORD)) {
          if (text.contains(pw)) {
            offenders.add(p + " contains a password");
          }
        }
      }
    }
    assertThat(offenders).isEmpty();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(a.pgpassFile()))).isEqualTo("rw-------");
  }

  // ---------------------------------------------------------------------------------------------

  private PostgresNode node(String name, Credentials su, Credentials repl) throws IOException {
    Path dir = base.resolve(name);
    Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    if (ROOT) {
      UserPrincipalLookupService users = dir.getFileSystem().getUserPrincipalLookupService();
      UserPrincipal pg = users.lookupPrincipalByName("postgres");
      GroupPrincipal pgGroup = users.lookupPrincipalByGroupName("postgres");
      PosixFileAttributeView view = Files.getFileAttributeView(dir, PosixFileAttributeView.class);
      view.setOwner(pg);
      view.setGroup(pgGroup);
    }
    int port = freePort();
    PostgresConfig cfg = new PostgresConfig(BIN, dir.resolve("data").toString(),
        new HostPort("127.0.0.1", port), null, new PostgresConfig.Authentication(su, repl),
        Map.of("shared_buffers", "16MB", "max_connections", 20), null);
    PostgresNode n = new PostgresNode(name, cfg, su, repl, runner);
    nodes.add(n);
    ports.put(n, port);
    configs.put(n, cfg);
    return n;
  }

  private static int freePort() {
    return io.pgwarden.agent.local.FreePorts.take(1).get(0);
  }

  private int port(PostgresNode n) {
    return ports.get(n);
  }

  private Connection connect(PostgresNode n) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", SU.username());
    p.setProperty("password", SU_PASSWORD);
    p.setProperty("connectTimeout", "5");
    p.setProperty("socketTimeout", "10");
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port(n) + "/postgres", p);
  }

  @Test
  @Order(8)
  void aPrimaryPromotedAgainDoesNotWaitForTheStandbyItHadBefore() throws SQLException {
    // b is primary with a streaming from it; b names a as its synchronous standby.
    b.setSynchronousStandbys(List.of("a"), 1);
    assertThat(setting(b, "synchronous_standby_names")).isEqualTo("FIRST 1 (\"a\")");
    exec(b, "INSERT INTO t VALUES ('synchronous-to-a')");
    // A switchover without restarting either agent: a is promoted, b follows it.
    a.promote(false);
    a.ensureSlots(Set.of("b"));
    b.stop(DemoteMode.FAST);
    b.rewind(srcA);
    b.start(StartMode.REPLICA, srcA);
    await().atMost(LONG).untilAsserted(() -> assertThat(b.probe().streaming()).isTrue());
    // b is promoted again (a second failover), then its configuration is rendered as a primary's again.
    b.promote(false);
    b.reload();

    assertThat(setting(b, "synchronous_standby_names")).isEmpty();
    // With the old value this commit would wait for a, which is not b's standby, until the loop replaced it.
    exec(b, "INSERT INTO t VALUES ('not-waiting')");
    assertThat(values(b)).contains("not-waiting");
  }

  @Test
  @Order(9)
  void aRestartedAgentKeepsTheStandbyThePrimaryWaitsFor() throws SQLException {
    b.setSynchronousStandbys(List.of("a"), 1);
    // A new agent process for the same data directory: its first render must not drop the standby, or the
    // primary would acknowledge commits its recorded synchronous standby lacks.
    try (PostgresNode restarted = new PostgresNode("b", configs.get(b), SU, REPL, runner)) {
      assertThat(restarted.managedSettings(StartMode.PRIMARY, null))
          .as("rendered before any probe: what pgwarden.conf holds")
          .containsEntry("synchronous_standby_names", "FIRST 1 (\"a\")");
    }
    try (PostgresNode restarted = new PostgresNode("b", configs.get(b), SU, REPL, runner)) {
      restarted.probe();
      restarted.reload();
      assertThat(setting(b, "synchronous_standby_names")).isEqualTo("FIRST 1 (\"a\")");
    } finally {
      b.setSynchronousStandbys(List.of(), 1);
    }
  }

  @Test
  @Order(10)
  void aPromotionInSynchronousModeHoldsCommitsUntilTheStandbysAreSet() throws SQLException {
    // a becomes b's replica again, then is promoted as a synchronous-mode failover does it.
    b.ensureSlots(Set.of("a"));
    a.stop(DemoteMode.FAST);
    a.rewind(srcB);
    a.holdCommitsWhenPromoted(true);
    a.start(StartMode.REPLICA, srcB);
    await().atMost(LONG).untilAsserted(() -> assertThat(a.probe().streaming()).isTrue());
    String hold = "FIRST 1 (\"pgwarden:hold\")"; // a standby no member can be: nobody acknowledges a commit
    assertThat(setting(a, "synchronous_standby_names")).as("a replica carries it, without effect").isEqualTo(hold);
    a.promote(true);
    assertThat(a.probe().runningAsPrimary()).isTrue();
    assertThat(setting(a, "synchronous_standby_names")).as("in force from the promotion on").isEqualTo(hold);
    assertThat(a.probe().holdsCommitsForTopology()).isTrue();
    a.reload();
    assertThat(setting(a, "synchronous_standby_names")).as("kept by later renders").isEqualTo(hold);
    a.setSynchronousStandbys(List.of(), 1);
    exec(a, "INSERT INTO t VALUES ('after-the-hold')");
    assertThat(values(a)).contains("after-the-hold");
    assertThat(a.probe().pendingRestart()).as("a promoted primary, its files rendered as primary's").isEmpty();
  }

  @Test
  @Order(11)
  void aServerThatDiesAtTheEndOfRecoveryFailsThePromotionAtOnce() throws IOException {
    // A standby of its own (of nobody, as after its primary vanished), so no earlier step's state matters.
    PostgresNode d = node("d", SU, REPL);
    d.initdb();
    // Once as primary first: pg_control holds initdb's max_connections (100) until a server ran with ours
    // (20), and a standby with fewer than that refuses to recover.
    d.start(StartMode.PRIMARY, null);
    d.stop(DemoteMode.FAST);
    d.start(StartMode.REPLICA, null);
    assertThat(d.probe().runningAsReplica()).isTrue();
    // The end of recovery first writes the new timeline's history file into pg_wal. Unwritable there, the
    // startup process exits (FATAL) and the postmaster shuts down, as on a full disk. PostgreSQL runs as a
    // non-root user (postgres when the tests run as root), so the mode bites.
    Path walDir = d.dataDir().resolve("pg_wal");
    Set<PosixFilePermission> walMode = Files.getPosixFilePermissions(walDir);
    Files.setPosixFilePermissions(walDir, PosixFilePermissions.fromString("r-xr-xr-x"));
    Duration took;
    try {
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> d.promote(false))
          .isInstanceOf(PostgresCommandException.class)
          .hasMessageStartingWith("promotion failed: PostgreSQL stopped while promoting")
          .hasMessageContaining(d.logFile().toString());
      took = Duration.ofNanos(System.nanoTime() - t0);
    } finally {
      // Else the files written below it could not be removed when the tests do not run as root.
      Files.setPosixFilePermissions(walDir, walMode);
    }

    // Generous: the point is "not after the 60-s wait for the end of recovery".
    assertThat(took).isLessThan(Duration.ofSeconds(30));
    LocalPgState s = d.probe();
    assertThat(s.postmasterAlive()).isFalse();
    assertThat(s.running()).isFalse();
    // That it died of the unwritable pg_wal at the end of recovery, not of something else.
    String serverLog = Files.readString(d.logFile(), StandardCharsets.ISO_8859_1);
    assertThat(serverLog)
        .contains("received promote request")
        .containsPattern("FATAL: +could not create file \"pg_wal/xlogtemp\\.\\d+\": Permission denied")
        .containsPattern("startup process \\(PID \\d+\\) exited with exit code 1")
        .contains("shutting down due to startup process failure");
  }

  @Test
  @Order(12)
  void aFastStopThatCannotFinishBecomesImmediate() throws Exception {
    PostgresNode e = node("e", SU, REPL);
    e.initdb();
    e.start(StartMode.PRIMARY, null);
    long checkpointer;
    try (Connection c = connect(e); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")) {
      assertThat(rs.next()).isTrue();
      checkpointer = rs.getLong(1);
    }
    // A fast stop ends with the shutdown checkpoint, which a frozen checkpointer never writes (as on a hung
    // disk); an immediate stop needs no checkpoint, and the postmaster kills a child that ignores it.
    Process stopSignal = new ProcessBuilder("kill", "-STOP", Long.toString(checkpointer)).start();
    assertThat(stopSignal.waitFor()).isZero();

    long t0 = System.nanoTime();
    e.stop(DemoteMode.FAST);
    Duration took = Duration.ofNanos(System.nanoTime() - t0);

    LocalPgState s = e.probe();
    assertThat(s.postmasterAlive()).isFalse();
    assertThat(s.running()).isFalse();
    assertThat(ProcessHandle.of(checkpointer).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    // It gave the fast stop its whole bound first: a lower bound only, which no slow machine can break.
    assertThat(took).isGreaterThanOrEqualTo(DemoteMode.FAST.escalateAfter());
    String serverLog = Files.readString(e.logFile(), StandardCharsets.ISO_8859_1);
    assertThat(serverLog.indexOf("received fast shutdown request")).isNotNegative()
        .isLessThan(serverLog.indexOf("received immediate shutdown request"));
  }

  @Test
  @Order(13)
  void aPrimaryStoppedImmediatelyAfterItsPromotionReportsItsNewTimelineAndKeepsItsCommits() throws Exception {
    PostgresNode f = node("f", SU, REPL);
    PostgresNode g = node("g", SU, REPL);
    ReplicationSource srcF = new ReplicationSource("f", "127.0.0.1", port(f));
    f.initdb();
    f.start(StartMode.PRIMARY, null);
    f.ensureReplicationRole();
    f.ensureSlots(Set.of("g"));
    g.baseBackup(srcF);
    g.start(StartMode.REPLICA, srcF);
    // Dirty pages on g, so that the checkpoint its promotion starts is still running at the crash below (as
    // in promotedReplicaMovesToTimelineTwo): promote() does not wait for it.
    exec(f, "CREATE TABLE bulk AS SELECT md5(i::text) AS v FROM generate_series(1, 100000) i",
        "CREATE TABLE t (v text PRIMARY KEY)");
    String written = single(f, "SELECT pg_current_wal_lsn()::text");
    await().atMost(LONG).until(() -> "t".equals(single(g, "SELECT pg_last_wal_replay_lsn() >= '" + written + "'::pg_lsn")));
    f.stop(DemoteMode.FAST);

    g.promote(false);
    exec(g, "INSERT INTO t VALUES ('after-promotion')");
    String committed = single(g, "SELECT pg_current_wal_flush_lsn()::text");
    assertThat(checkpointTimeline(g)).as("precondition: the promotion's checkpoint has not finished").isEqualTo(1);
    g.stop(DemoteMode.IMMEDIATE);

    // pg_control's last checkpoint is still timeline 1's; the end-of-recovery record's position (its minimum
    // recovery point) is what says the node went on to timeline 2, and it last ran as a primary: the loop
    // rewinds such a node before it follows anyone (a crash may have left WAL past any fork).
    LocalPgState stopped = g.probe();
    assertThat(stopped.running()).isFalse();
    assertThat(stopped.controlState().lastRanAsPrimary()).isTrue();
    assertThat(stopped.timeline()).isEqualTo(2L);
    assertThat(stopped.lsn()).isNotNull().satisfies(l -> assertThat(l.isAfter(Lsn.parse(written))).isTrue());
    assertThat(stopped.lsn().isAfter(Lsn.parse(committed))).as("only a lower bound: crash recovery finds the rest")
        .isFalse();

    g.start(StartMode.PRIMARY, null);
    LocalPgState restarted = g.probe();
    assertThat(restarted.runningAsPrimary()).isTrue();
    assertThat(restarted.timeline()).isEqualTo(2L);
    assertThat(values(g)).containsExactly("after-promotion");
  }

  private long checkpointTimeline(PostgresNode n) throws SQLException {
    return Long.parseLong(single(n, "SELECT timeline_id FROM pg_control_checkpoint()"));
  }

  private String single(PostgresNode n, String sql) throws SQLException {
    try (Connection c = connect(n); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private String setting(PostgresNode n, String name) throws SQLException {
    try (Connection c = connect(n); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT current_setting('" + name + "')")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private void exec(PostgresNode n, String... sql) throws SQLException {
    try (Connection c = connect(n); Statement st = c.createStatement()) {
      for (String s : sql) {
        st.execute(s);
      }
    }
  }

  private List<String> values(PostgresNode n) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = connect(n); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT v FROM t")) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }
}
