package io.pgwarden.harness.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Faults only containers can make, on etcd plus three pgwarden containers (ttl 10 s, synchronous mode
 * on): a node cut off the network, one-way cuts with iptables in a node's network namespace, a frozen
 * container. Every scenario starts from and returns to a converged cluster, samples every node's
 * writability throughout ({@link WriteProbe}), and checks: never two writable nodes, no acknowledged
 * write lost, convergence after the fault heals.
 *
 * <p>Runs with {@code -Pdocker} (see test-harness/pom.xml); needs Docker and root for nsenter.
 */
@Tag("chaos")
class DockerPartitionIT {
  private static final Duration TTL = Duration.ofSeconds(DockerCluster.TTL_SECONDS);
  /** Rejoin may include pg_rewind or a base backup; generous, but bounded. */
  private static final Duration CONVERGE = Duration.ofSeconds(120);

  private static DockerCluster cluster;
  private static long nextRound = 1;
  private WriteProbe probe;
  private String scenario;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = DockerCluster.start(Path.of(System.getProperty("pgwarden.repo", "..")).toAbsolutePath().normalize());
    long t0 = System.nanoTime();
    cluster.awaitConverged("a primary and two streaming replicas", Duration.ofMinutes(3), WriteProbe.TABLE, -1);
    System.out.printf("docker cluster converged %d s after the containers started%n",
        Duration.ofNanos(System.nanoTime() - t0).toSeconds());
    WriteProbe.createTable(cluster, cluster.leader().orElseThrow());
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @BeforeEach
  void converged(TestInfo info) {
    scenario = info.getDisplayName();
    cluster.awaitConverged("converged before " + scenario, CONVERGE, WriteProbe.TABLE, -1);
  }

  /** On a failure, the agents' recent decisions say more than any assertion message. */
  @RegisterExtension
  final TestWatcher logsOnFailure = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      for (String n : cluster.nodes()) {
        System.out.printf("---- last lines of %s ----%n%s%n", n, cluster.logTail(n, 60));
      }
    }
  };

  @AfterEach
  void stopProbe() throws Exception {
    if (probe != null) {
      probe.close();
      nextRound = probe.lastRound() + 1;
    }
  }

  private String startProbe() {
    String primary = cluster.leader().orElseThrow();
    probe = new WriteProbe(cluster, nextRound);
    await("writes acknowledged by the primary " + primary).atMost(Duration.ofSeconds(30))
        .until(() -> !probe.acksOnAfter(primary, 0).isEmpty());
    return primary;
  }

  private String awaitNewPrimary(String old) {
    return await("a new primary other than " + old).atMost(TTL.multipliedBy(4)).pollInterval(Duration.ofMillis(250))
        .until(() -> cluster.leader().filter(l -> !l.equals(old) && cluster.runsAsPrimary(l)), Optional::isPresent)
        .orElseThrow();
  }

  /** After the fault healed: converged, then the invariants over everything the probe saw. */
  private void healedAndChecked(long healedAt) throws Exception {
    cluster.awaitConverged("converged after the fault healed in " + scenario, CONVERGE, WriteProbe.TABLE, -1);
    System.out.printf("%s: converged %d ms after the fault healed%n", scenario, millisSince(healedAt));
    probe.close();
    probe.assertNeverTwoWritable();
    for (String n : cluster.nodes()) {
      await("every acknowledged write replayed on " + n).atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> probe.assertAllAcknowledgedOn(n));
    }
    System.out.printf("%s: %d writes acknowledged, none lost, never two writable nodes%n", scenario, probe.acks().size());
  }

  private static long millisSince(long nanos) {
    return Duration.ofNanos(System.nanoTime() - nanos).toMillis();
  }

  /** The primary stops being writable within ttl of the fault, a replica takes over, the old one rewinds. */
  private void primaryLosesEtcd(Runnable fault, Runnable heal) throws Exception {
    String old = startProbe();
    long faultAt = System.nanoTime();
    fault.run();
    await(old + " stops running as primary before ttl").atMost(TTL).pollInterval(Duration.ofMillis(100))
        .until(() -> !cluster.runsAsPrimary(old));
    long fenced = millisSince(faultAt);
    String next = awaitNewPrimary(old);
    long failover = millisSince(faultAt);
    assertThat(probe.acksOnAfter(old, faultAt + TTL.toNanos())).as("writes acknowledged by %s after ttl", old).isEmpty();
    await("writes acknowledged by the new primary " + next).atMost(Duration.ofSeconds(30))
        .until(() -> !probe.acksOnAfter(next, faultAt).isEmpty());
    System.out.printf("%s: %s fenced after %d ms, %s primary after %d ms (ttl %d s)%n",
        scenario, old, fenced, next, failover, TTL.toSeconds());
    long healedAt = System.nanoTime();
    heal.run();
    healedAndChecked(healedAt);
    assertThat(cluster.leader()).contains(next);
    assertThat(cluster.logTail(old, 2000)).as("agent log of the old primary %s", old).contains("rewind");
  }

  @Test
  void primaryCutOffFromEtcdAndReplicasIsFencedBeforeTtlAndRejoinsAfterRewind() throws Exception {
    String[] old = new String[1];
    primaryLosesEtcd(() -> cluster.disconnect(old[0] = cluster.leader().orElseThrow()), () -> cluster.reconnect(old[0]));
  }

  @Test
  void primaryThatReachesTheReplicasButNotEtcdStepsDownBeforeTtl() throws Exception {
    String[] old = new String[1];
    primaryLosesEtcd(() -> cluster.cut(old[0] = cluster.leader().orElseThrow(), List.of("etcd")),
        () -> cluster.heal(old[0]));
  }

  @Test
  void replicaCutOffCausesNoFailoverAndCatchesUpAfter() throws Exception {
    String primary = startProbe();
    String replica = cluster.nodes().stream().filter(n -> !n.equals(primary)).findFirst().orElseThrow();
    long faultAt = System.nanoTime();
    cluster.disconnect(replica);
    await("no failover while " + replica + " is cut off").during(TTL.multipliedBy(2)).atMost(TTL.multipliedBy(3))
        .until(() -> cluster.leader().equals(Optional.of(primary)));
    await("writes acknowledged by " + primary + " with " + replica + " cut off").atMost(Duration.ofSeconds(30))
        .until(() -> !probe.acksOnAfter(primary, faultAt + TTL.toNanos()).isEmpty());
    long healedAt = System.nanoTime();
    cluster.reconnect(replica);
    healedAndChecked(healedAt);
    assertThat(cluster.leader()).contains(primary);
  }

  @Test
  void primaryThatReachesEtcdButNotTheReplicasKeepsTheKeyAndTheReplicasCatchUp() throws Exception {
    String primary = startProbe();
    List<String> replicas = cluster.nodes().stream().filter(n -> !n.equals(primary)).toList();
    long faultAt = System.nanoTime();
    cluster.cut(primary, replicas);
    await("no failover while " + primary + " reaches only etcd").during(TTL.multipliedBy(2)).atMost(TTL.multipliedBy(3))
        .until(() -> cluster.leader().equals(Optional.of(primary)));
    // Synchronous mode "on" (not strict): once no standby streams, the primary drops it and commits alone.
    await("writes acknowledged by " + primary + " without its standbys").atMost(Duration.ofSeconds(60))
        .until(() -> !probe.acksOnAfter(primary, faultAt + TTL.toNanos()).isEmpty());
    long[] ackTimes = probe.acksOnAfter(primary, faultAt).stream().mapToLong(WriteProbe.Ack::ackedNanos).sorted().toArray();
    long longestPause = ackTimes[0] - faultAt;
    for (int i = 1; i < ackTimes.length; i++) {
      longestPause = Math.max(longestPause, ackTimes[i] - ackTimes[i - 1]);
    }
    System.out.printf("%s: longest pause of acknowledged writes on %s after the cut: %d ms%n", scenario, primary,
        longestPause / 1_000_000);
    long healedAt = System.nanoTime();
    cluster.heal(primary);
    healedAndChecked(healedAt);
    assertThat(cluster.leader()).contains(primary);
  }

  @Test
  void primaryPausedPastTtlComesBackAsReplica() throws Exception {
    String old = startProbe();
    long faultAt = System.nanoTime();
    cluster.pause(old);
    String next;
    try {
      next = awaitNewPrimary(old);
      System.out.printf("%s: %s primary %d ms after %s was paused%n", scenario, next, millisSince(faultAt), old);
      await("writes acknowledged by the new primary " + next).atMost(Duration.ofSeconds(30))
          .until(() -> !probe.acksOnAfter(next, faultAt).isEmpty());
    } finally {
      cluster.unpause(old);
    }
    long healedAt = System.nanoTime();
    // A thawed primary runs as primary until its agent's first tick sees the lease gone; the write
    // probe shows whether it could acknowledge anything meanwhile (its standbys follow the new primary).
    long[] lastSeenPrimary = {-1};
    await(old + " back as a replica").atMost(CONVERGE).pollInterval(Duration.ofMillis(100))
        .until(() -> {
          Optional<String> inRecovery = cluster.query(old, "SELECT pg_is_in_recovery()");
          if (inRecovery.equals(Optional.of("f"))) {
            lastSeenPrimary[0] = millisSince(healedAt);
          }
          return inRecovery.equals(Optional.of("t"));
        });
    System.out.printf("%s: %s in recovery %d ms after unpause; seen running as primary after unpause: %s%n",
        scenario, old, millisSince(healedAt), lastSeenPrimary[0] < 0 ? "never" : "until " + lastSeenPrimary[0] + " ms");
    healedAndChecked(healedAt);
    assertThat(cluster.leader()).contains(next);
  }
}
