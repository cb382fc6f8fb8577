package io.pgwarden.harness.scenario;

import static org.awaitility.Awaitility.await;

import io.pgwarden.harness.cluster.TestCluster;
import io.pgwarden.harness.invariant.WritabilityProber;
import io.pgwarden.harness.workload.Workload;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/** What a fault script may touch: the cluster, the clocks of the run, and bounded waits. */
public final class ScenarioContext {
  private final TestCluster cluster;
  private final WritabilityProber prober;
  private final Workload workload;
  private final String initialPrimary;
  private final Duration ttl;
  private final Duration slack;
  private volatile Long firstFaultNanos;

  ScenarioContext(TestCluster cluster, WritabilityProber prober, Workload workload, String initialPrimary,
      Duration ttl, Duration slack) {
    this.cluster = cluster;
    this.prober = prober;
    this.workload = workload;
    this.initialPrimary = initialPrimary;
    this.ttl = ttl;
    this.slack = slack;
  }

  public TestCluster cluster() {
    return cluster;
  }

  public String primary() {
    return initialPrimary;
  }

  public Duration ttl() {
    return ttl;
  }

  /** Runs a fault and marks it on the prober's clock; the first one is where failover time starts. */
  public void fault(String what, Runnable action) {
    long at = prober.mark("fault: " + what);
    if (firstFaultNanos == null) {
      firstFaultNanos = at;
    }
    action.run();
  }

  /** Runs a repair and marks it. */
  public void heal(String what, Runnable action) {
    prober.mark("heal: " + what);
    action.run();
  }

  /**
   * Keeps a fault in place for {@code d}. This is the shape of the scenario (how long the fault lasts),
   * not a wait for some state, so it is a plain timed pause.
   */
  public void hold(Duration d) throws InterruptedException {
    Thread.sleep(d.toMillis());
  }

  /** Waits (bounded by 2 x ttl + slack) until a node other than the ones given holds the leader key. */
  public String awaitLeaderOtherThan(String... not) {
    AtomicReference<String> got = new AtomicReference<>();
    await("a leader other than " + String.join(",", not)).atMost(ttl.multipliedBy(2).plus(slack))
        .pollInterval(Duration.ofMillis(250)).until(() -> {
          Optional<String> l = cluster.leader();
          l.ifPresent(got::set);
          return l.isPresent() && java.util.Arrays.stream(not).noneMatch(l.get()::equals);
        });
    prober.mark("leader: " + got.get());
    return got.get();
  }

  /**
   * Waits (bounded by 2 x ttl + slack) until every node but {@code except} streams from {@code leader}:
   * a fair precondition for a second fault, since a replica that has not yet reached the new timeline
   * is rightly not a candidate.
   */
  public void awaitStreamingFrom(String leader, String... except) {
    await("every node but " + String.join(",", except) + " streams from " + leader)
        .atMost(ttl.multipliedBy(2).plus(slack)).pollInterval(Duration.ofMillis(250)).until(() -> {
          var l = cluster.member(leader);
          if (l.isEmpty()) {
            return false;
          }
          return cluster.nodes().stream()
              .filter(n -> !n.equals(leader) && java.util.Arrays.stream(except).noneMatch(n::equals))
              .allMatch(n -> cluster.member(n).map(m -> m.streaming() && l.get().connUrl().equals(m.upstream()))
                  .orElse(false));
        });
    prober.mark("streaming from " + leader);
  }

  /** Waits (bounded) until {@code more} further ids have been acknowledged, so writes land between faults. */
  public void awaitMoreAcknowledged(int more) {
    int target = Math.min(workload.acknowledgedCount() + more, workload.options().count());
    await(target + " ids acknowledged").atMost(ttl.multipliedBy(2).plus(slack)).pollInterval(Duration.ofMillis(200))
        .until(() -> workload.acknowledgedCount() >= target || workload.isDone());
  }

  Optional<Long> firstFaultNanos() {
    return Optional.ofNullable(firstFaultNanos);
  }
}
