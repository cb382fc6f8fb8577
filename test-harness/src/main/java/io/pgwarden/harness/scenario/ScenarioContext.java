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

  /** Marks an observation on the prober's timeline (shown with the row's evidence). */
  public void mark(String what) {
    prober.mark(what);
  }

  /** What the CLI printed and returned. */
  public record CliRun(int rc, String out, String err) {}

  /** Runs the pgwarden CLI in-process against this cluster's folder: {@code pgwarden VERB --dir DIR ARGS}. */
  public CliRun cli(String verb, String... args) {
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    java.util.List<String> argv = new java.util.ArrayList<>(java.util.List.of(verb, "--dir",
        cluster.local().dir().toString()));
    argv.addAll(java.util.List.of(args));
    int rc = io.pgwarden.agent.Main.run(new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true),
        argv.toArray(String[]::new));
    prober.mark("cli: pgwarden " + verb + " " + String.join(" ", args) + " -> rc " + rc);
    return new CliRun(rc, out.toString(), err.toString());
  }

  /** Like {@link #cli} but a non-zero exit is an error of the script. */
  public CliRun cliOk(String verb, String... args) {
    CliRun r = cli(verb, args);
    if (r.rc() != 0) {
      throw new IllegalStateException("pgwarden " + verb + " " + String.join(" ", args) + " -> rc " + r.rc()
          + "\n" + r.out() + r.err());
    }
    return r;
  }

  /** The slack every bounded wait adds for a slow shared machine. */
  public Duration slack() {
    return slack;
  }

  Optional<Long> firstFaultNanos() {
    return Optional.ofNullable(firstFaultNanos);
  }
}
