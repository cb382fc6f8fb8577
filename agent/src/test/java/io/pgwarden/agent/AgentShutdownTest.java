package io.pgwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.agent.port.PostgresCommandException;
import io.pgwarden.agent.port.PostgresControl;
import io.pgwarden.agent.port.RawKv;
import io.pgwarden.agent.port.RawScope;
import io.pgwarden.agent.port.ReplicationSource;
import io.pgwarden.agent.watchdog.Watchdog;
import io.pgwarden.agent.watchdog.WatchdogFence;
import io.pgwarden.common.config.Keys;
import io.pgwarden.common.decide.Action.StartMode;
import io.pgwarden.common.decide.DemoteMode;
import io.pgwarden.common.lease.LeaseTracker;
import io.pgwarden.common.testing.FakeClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's SIGTERM path against a real watchdog and a stand-in postmaster (as in
 * WatchdogScriptTest): what becomes of PostgreSQL when the agent stops it, cannot, or is paused.
 */
class AgentShutdownTest {
  private static final Keys KEYS = new Keys("/pgwarden", "t");

  @TempDir Path dir;
  private Process postmaster;
  private WatchdogFence fence;
  private long watchdogPid;
  private final FakeClock clock = new FakeClock();
  private final LeaseTracker lease = new LeaseTracker(clock, Duration.ofSeconds(5));
  private final Store store = new Store();
  private final Postgres pg = new Postgres();

  @BeforeEach
  void fakePostgres() throws IOException {
    Path data = Files.createDirectory(dir.resolve("data"));
    Path bin = Files.createDirectory(dir.resolve("bin"));
    Path pgCtl = bin.resolve("pg_ctl");
    Files.writeString(pgCtl, "#!/bin/sh\nexit 1\n");
    Files.setPosixFilePermissions(pgCtl, PosixFilePermissions.fromString("rwxr-xr-x"));
    postmaster = new ProcessBuilder("sleep", "600").directory(data.toFile()).start();
    Files.writeString(data.resolve("postmaster.pid"), postmaster.pid() + "\n" + data + "\n");
    lease.renewed(42, lease.beginRenew(), Duration.ofSeconds(30));
    fence = new WatchdogFence(() -> {
      Watchdog w = Watchdog.start(bin, data, dir);
      watchdogPid = w.pid();
      return w;
    }, "n1", lease);
  }

  @AfterEach
  void stopAll() {
    ProcessHandle.of(watchdogPid).ifPresent(ProcessHandle::destroyForcibly);
    postmaster.destroyForcibly();
  }

  @Test
  void aPrimaryThatCouldNotBeStoppedIsStoppedByTheWatchdogItLeftArmed() {
    fence.keyAcquired();
    pg.stopFails = true;
    boolean stopped = AgentCommand.shutdown(pg, store, KEYS, "n1", lease, false, fence);
    assertThat(stopped).isFalse();
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20)).until(() -> !postmaster.isAlive());
    assertThat(store.calls).as("the keys stay until the lease runs out: PostgreSQL might still run").isEmpty();
  }

  @Test
  void aReplicaThatCouldNotBeStoppedIsLeftRunning() {
    pg.stopFails = true;
    assertThat(AgentCommand.shutdown(pg, store, KEYS, "n1", lease, false, fence)).isFalse();
    awaitWatchdogGone();
    assertThat(postmaster.isAlive()).isTrue();
  }

  @Test
  void aCleanStopReleasesTheKeysAndDisarmsTheWatchdog() {
    fence.keyAcquired();
    assertThat(AgentCommand.shutdown(pg, store, KEYS, "n1", lease, false, fence)).isTrue();
    assertThat(pg.calls).containsExactly("stop FAST");
    assertThat(store.calls).containsExactly("deleteIfValue " + KEYS.leader() + " n1", "revokeLease 42");
    awaitWatchdogGone();
    // The fake stop left it running: only the watchdog could have stopped it.
    assertThat(postmaster.isAlive()).isTrue();
  }

  @Test
  void pausedLeavesPostgresRunningAndDisarmsTheWatchdog() {
    fence.keyAcquired();
    assertThat(AgentCommand.shutdown(pg, store, KEYS, "n1", lease, true, fence)).isFalse();
    assertThat(pg.calls).isEmpty();
    awaitWatchdogGone();
    assertThat(postmaster.isAlive()).isTrue();
  }

  private void awaitWatchdogGone() {
    await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(watchdogPid).isEmpty());
  }

  /** Only stop is called at shutdown. */
  private static final class Postgres implements PostgresControl {
    final List<String> calls = new ArrayList<>();
    boolean stopFails;

    @Override
    public void stop(DemoteMode mode) {
      calls.add("stop " + mode);
      if (stopFails) {
        throw new PostgresCommandException("pg_ctl stop -m immediate", 127, "pg_ctl: No such file or directory");
      }
    }

    @Override public void initdb() { throw new UnsupportedOperationException(); }
    @Override public void start(StartMode mode, ReplicationSource upstream) { throw new UnsupportedOperationException(); }
    @Override public void makeSlots(Set<String> slots) { throw new UnsupportedOperationException(); }
    @Override public void promote(boolean holdCommits) { throw new UnsupportedOperationException(); }
    @Override public void holdCommitsWhenPromoted(boolean hold) {}
    @Override public void follow(ReplicationSource upstream) { throw new UnsupportedOperationException(); }
    @Override public void rewind(ReplicationSource source) { throw new UnsupportedOperationException(); }
    @Override public void baseBackup(ReplicationSource source) { throw new UnsupportedOperationException(); }
    @Override public void useDynamicParameters(Map<String, String> parameters) { throw new UnsupportedOperationException(); }
    @Override public void useReplicationHosts(Set<String> hosts) { throw new UnsupportedOperationException(); }
    @Override public void reload() { throw new UnsupportedOperationException(); }
    @Override public void setSynchronousStandbys(List<String> names, int count) { throw new UnsupportedOperationException(); }
    @Override public void ensureReplicationRole() { throw new UnsupportedOperationException(); }
    @Override public void ensureSlots(Set<String> slots) { throw new UnsupportedOperationException(); }
  }

  /** Records the two calls a shutdown makes. */
  private static final class Store implements ClusterStore {
    final List<String> calls = new ArrayList<>();

    @Override
    public boolean deleteIfValue(String key, String expectedValue, Duration timeout) {
      calls.add("deleteIfValue " + key + " " + expectedValue);
      return true;
    }

    @Override
    public void revokeLease(long leaseId, Duration timeout) {
      calls.add("revokeLease " + leaseId);
    }

    @Override public Grant grantLease(Duration ttl, Duration timeout) { throw new UnsupportedOperationException(); }
    @Override public Duration keepAliveOnce(long leaseId, Duration timeout) { throw new UnsupportedOperationException(); }
    @Override public RawScope readPrefix(String prefix, Duration timeout) { throw new UnsupportedOperationException(); }
    @Override public RawKv get(String key, Duration timeout) { throw new UnsupportedOperationException(); }
    @Override public void put(String key, String value, long leaseId, Duration timeout) { throw new UnsupportedOperationException(); }
    @Override public boolean putIfAbsent(String key, String value, long leaseId, Duration timeout) {
      throw new UnsupportedOperationException();
    }
    @Override public boolean putAllIfValue(String guardKey, String guardValue, Map<String, String> puts, Duration timeout) {
      throw new UnsupportedOperationException();
    }
    @Override public boolean putIfValue(String key, String expected, String newValue, long leaseId, Duration timeout) {
      throw new UnsupportedOperationException();
    }
    @Override public boolean putIfModRevision(String key, String value, long modRevision, Duration timeout) {
      throw new UnsupportedOperationException();
    }
    @Override public void delete(String key, Duration timeout) { throw new UnsupportedOperationException(); }
    @Override public long deletePrefix(String prefix, Duration timeout) { throw new UnsupportedOperationException(); }
    @Override public AutoCloseable watchPrefix(String prefix, ScopeListener listener) { throw new UnsupportedOperationException(); }
    @Override public void close() {}
  }
}
