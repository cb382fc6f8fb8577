package io.pgwarden.agent.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.agent.postgres.PostgresNode;
import io.pgwarden.agent.postgres.ProcessRunner;
import io.pgwarden.common.config.Credentials;
import io.pgwarden.common.config.HostPort;
import io.pgwarden.common.config.PostgresConfig;
import io.pgwarden.common.decide.Action.StartMode;
import io.pgwarden.common.decide.DemoteMode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The watchdog against a real PostgreSQL 15 primary. "The agent" is either this JVM (timing) or a
 * separate JVM, {@link WatchdogFeeder}, so that it alone can be SIGKILLed or SIGSTOPped. Each
 * fencing test prints the time from the fault to the first refused write.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WatchdogIT {
  private static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
  private static final boolean ROOT = "root".equals(System.getProperty("user.name"));
  private static final List<String> AS_POSTGRES =
      List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--");
  private static final List<String> PREFIX = ROOT ? AS_POSTGRES : List.of();
  private static final String PASSWORD = "wd-secret";
  private static final Credentials SU = new Credentials("postgres", PASSWORD, null, null);
  /** Over the lease: the watchdog, then SIGQUIT and backends exiting, on a loaded 2-core box. */
  // How late PostgreSQL may stop and still be safe at the default timing: the agent arms the watchdog
  // with its lease's local validity, which ends retry_timeout (4 s) before etcd can expire the key.
  private static final long SLACK_MS = 4000;

  private final ProcessRunner runner = new ProcessRunner(PREFIX);
  private final List<Runnable> cleanup = new ArrayList<>();
  private Path base;
  private Path work;
  private PostgresNode pg;
  private int port;
  private Connection session;

  @BeforeAll
  void createPrimary() throws IOException {
    base = Files.createTempDirectory("pgw-wd");
    Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
    work = base.resolve("node");
    Files.createDirectory(work, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    if (ROOT) {
      UserPrincipalLookupService users = work.getFileSystem().getUserPrincipalLookupService();
      PosixFileAttributeView view = Files.getFileAttributeView(work, PosixFileAttributeView.class);
      view.setOwner(users.lookupPrincipalByName("postgres"));
      GroupPrincipal group = users.lookupPrincipalByGroupName("postgres");
      view.setGroup(group);
    }
    port = freePort();
    PostgresConfig cfg = new PostgresConfig(BIN.toString(), work.resolve("data").toString(),
        new HostPort("127.0.0.1", port), null, new PostgresConfig.Authentication(SU, SU),
        Map.of("shared_buffers", "16MB", "max_connections", 20), null);
    pg = new PostgresNode("wd", cfg, SU, SU, runner);
    pg.initdb();
  }

  @BeforeEach
  void primaryRunsAndTakesWrites() throws SQLException {
    if (!pg.probe().running()) {
      pg.start(StartMode.PRIMARY, null);
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> pg.probe().runningAsPrimary());
    session = connect();
    try (Statement st = session.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS w (at timestamptz)");
    }
    assertThat(refusesWrites()).isFalse();
  }

  @AfterEach
  void cleanUp() throws SQLException {
    cleanup.forEach(Runnable::run);
    cleanup.clear();
    session.close();
  }

  @AfterAll
  void destroyPrimary() throws IOException {
    pg.stop(DemoteMode.IMMEDIATE);
    pg.close();
    try (Stream<Path> all = Files.walk(base)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Test
  void armedAndNeverFedPostgresStopsAtTheDeadline() {
    Watchdog w = watchdog();
    long t0 = System.nanoTime();
    w.arm(Duration.ofSeconds(3));
    long ms = millisUntilWritesRefused(t0, 3000 + SLACK_MS);
    report("armed 3 s, never fed", ms);
    assertThat(ms).as("not before the deadline it was given").isGreaterThanOrEqualTo(2900);
    await().atMost(Duration.ofSeconds(10)).until(() -> !pg.probe().postmasterAlive());
  }

  @Test
  void fedRegularlyPostgresKeepsRunning() {
    Watchdog w = watchdog();
    w.arm(Duration.ofSeconds(5));
    await().during(Duration.ofSeconds(12)).atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250))
        .until(() -> {
          w.arm(Duration.ofSeconds(5));
          return !refusesWrites();
        });
    assertThat(w.alive()).isTrue();
  }

  @Test
  void agentKilledWhileArmedPostgresStopsAtOnce() throws Exception {
    Process agent = feeder("arm", 20_000);
    long t0 = System.nanoTime();
    agent.destroyForcibly(); // SIGKILL
    long ms = millisUntilWritesRefused(t0, SLACK_MS);
    report("agent SIGKILLed, armed with 20 s left", ms);
  }

  @Test
  void agentFrozenWhileArmedPostgresStopsWhenItsLeaseRunsOut() throws Exception {
    Process agent = feeder("arm", 3000);
    long t0 = System.nanoTime();
    signal("STOP", agent.pid());
    long ms = millisUntilWritesRefused(t0, 3000 + SLACK_MS);
    report("agent SIGSTOPped, armed with 3 s lease, fed every 200 ms", ms);
    // It was fed at most 200 ms before the freeze: the deadline cannot be much earlier than 3 s.
    assertThat(ms).isGreaterThanOrEqualTo(2500);
  }

  @Test
  void disarmedThenClosedPostgresKeepsRunning() {
    Watchdog w = watchdog();
    w.arm(Duration.ofSeconds(2));
    w.disarm();
    w.close();
    await().atMost(Duration.ofSeconds(20)).until(() -> ProcessHandle.of(w.pid()).isEmpty());
    await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250))
        .until(() -> !refusesWrites());
  }

  @Test
  void closedWhileArmedPostgresKeepsRunning() {
    Watchdog w = watchdog();
    w.arm(Duration.ofSeconds(2));
    w.close(); // a clean agent shutdown never goes through the watchdog
    await().atMost(Duration.ofSeconds(20)).until(() -> ProcessHandle.of(w.pid()).isEmpty());
    await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250))
        .until(() -> !refusesWrites());
  }

  @Test
  void agentOfAReplicaKilledPostgresKeepsRunning() throws Exception {
    // Disarmed means "not primary": a replica that outlives its agent cannot take writes.
    Process agent = feeder("disarm", 3000);
    agent.destroyForcibly();
    await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250))
        .until(() -> !refusesWrites());
  }

  // ---------------------------------------------------------------------------------------------

  private Watchdog watchdog() {
    Watchdog w = Watchdog.start(BIN, pg.dataDir(), work, PREFIX);
    cleanup.add(() -> {
      w.close();
      ProcessHandle.of(w.pid()).ifPresent(ProcessHandle::destroyForcibly);
    });
    return w;
  }

  /** Starts "the agent" in its own JVM; returns once it has fed its watchdog. */
  private Process feeder(String mode, long leaseMillis) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"),
        WatchdogFeeder.class.getName(),
        BIN.toString(), pg.dataDir().toString(), work.toString(), mode, Long.toString(leaseMillis)));
    cmd.addAll(PREFIX);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    List<String> lines = new CopyOnWriteArrayList<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String l = r.readLine(); l != null; l = r.readLine()) {
          lines.add(l);
        }
      } catch (IOException e) {
        // the feeder was killed: its output ends here
      }
    }, "feeder-output");
    reader.setDaemon(true);
    reader.start();
    cleanup.add(() -> {
      signal("CONT", p.pid());
      p.destroyForcibly();
      lines.stream().filter(l -> l.startsWith("WATCHDOG ")).findFirst()
          .flatMap(l -> ProcessHandle.of(Long.parseLong(l.substring(9).trim())))
          .ifPresent(ProcessHandle::destroyForcibly);
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> lines.contains("FED"));
    return p;
  }

  private static void signal(String sig, long pid) {
    try {
      new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).start().waitFor();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private long millisUntilWritesRefused(long t0, long boundMillis) {
    long[] refusedAt = new long[1];
    await().atMost(Duration.ofMillis(boundMillis)).pollInterval(Duration.ofMillis(20)).until(() -> {
      if (refusesWrites()) {
        refusedAt[0] = System.nanoTime();
        return true;
      }
      return false;
    });
    return (refusedAt[0] - t0) / 1_000_000;
  }

  private static void report(String what, long ms) {
    System.out.printf("WATCHDOG-TIMING %s: PostgreSQL refused writes %d ms after the fault%n", what, ms);
  }

  /** Through the session opened before the fault, as a client in the middle of its work would. */
  private boolean refusesWrites() {
    try (Statement st = session.createStatement()) {
      st.execute("INSERT INTO w VALUES (now())");
      return false;
    } catch (SQLException e) {
      // The session may have broken for another reason: a fresh one decides.
      Connection fresh;
      try {
        fresh = connect();
      } catch (SQLException again) {
        return true;
      }
      try (Statement st = fresh.createStatement()) {
        st.execute("INSERT INTO w VALUES (now())");
      } catch (SQLException again) {
        closeQuietly(fresh);
        return true;
      }
      closeQuietly(session);
      session = fresh;
      return false;
    }
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException ignored) {
      // already broken
    }
  }

  private Connection connect() throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    p.setProperty("password", PASSWORD);
    p.setProperty("connectTimeout", "2");
    p.setProperty("socketTimeout", "2");
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
  }

  private static int freePort() {
    return io.pgwarden.agent.local.FreePorts.take(1).get(0);
  }
}
