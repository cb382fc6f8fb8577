package io.pgwarden.harness.scenario;

import io.pgwarden.common.model.SynchronousMode;
import io.pgwarden.harness.workload.Workload;
import java.util.List;

/** The chaos matrix's scenarios, each a fault sequence on a fresh 3-node cluster. */
public final class Scenarios {
  private Scenarios() {}

  public static Scenario powerOffPrimary(SynchronousMode mode, Workload.Options load) {
    return new Scenario("power off the primary", 3, mode, load, 0.2, ctx -> {
      String a = ctx.primary();
      ctx.fault("power off " + a, () -> ctx.cluster().powerOff(a));
      ctx.awaitLeaderOtherThan(a);
      ctx.heal("power on " + a, () -> ctx.cluster().startAgent(a));
    });
  }

  public static Scenario killPrimaryAgent(SynchronousMode mode, Workload.Options load) {
    return new Scenario("kill only the primary's agent", 3, mode, load, 0.2, ctx -> {
      String a = ctx.primary();
      ctx.fault("SIGKILL agent of " + a, () -> ctx.cluster().killAgent(a));
      // Long enough for another node to take the expired lease: if the orphaned postmaster still takes
      // writes by then, the prober sees two writable nodes.
      ctx.awaitLeaderOtherThan(a);
      ctx.hold(ctx.ttl());
      ctx.heal("restart agent of " + a, () -> ctx.cluster().startAgent(a));
    });
  }

  public static Scenario freezePrimaryAgent(SynchronousMode mode, Workload.Options load) {
    return new Scenario("freeze the primary's agent for 2 x ttl", 3, mode, load, 0.2, ctx -> {
      String a = ctx.primary();
      ctx.fault("SIGSTOP agent of " + a, () -> ctx.cluster().freezeAgent(a));
      ctx.hold(ctx.ttl().multipliedBy(2));
      ctx.heal("SIGCONT agent of " + a, () -> ctx.cluster().thawAgent(a));
    });
  }

  public static Scenario etcdDownLongerThanTtl(SynchronousMode mode, Workload.Options load) {
    return new Scenario("etcd stopped longer than ttl", 3, mode, load, 0.2, ctx -> {
      ctx.fault("stop etcd", () -> ctx.cluster().stopEtcd());
      ctx.hold(ctx.ttl().plusSeconds(8));
      ctx.heal("start etcd", () -> ctx.cluster().startEtcd());
    });
  }

  public static Scenario etcdDownBriefly(SynchronousMode mode, Workload.Options load) {
    return new Scenario("etcd stopped briefly (ttl / 4)", 3, mode, load, 0.2, ctx -> {
      ctx.fault("stop etcd", () -> ctx.cluster().stopEtcd());
      ctx.hold(ctx.ttl().dividedBy(4));
      ctx.heal("start etcd", () -> ctx.cluster().startEtcd());
    });
  }

  public static Scenario restartAllAgents(SynchronousMode mode, Workload.Options load) {
    return new Scenario("SIGKILL and restart every agent at once", 3, mode, load, 0.2, ctx -> {
      List<String> all = ctx.cluster().nodes();
      ctx.fault("SIGKILL every agent", () -> all.forEach(ctx.cluster()::killAgent));
      ctx.heal("start every agent", () -> all.forEach(ctx.cluster()::startAgent));
    });
  }

  /**
   * The seed's full sequence on three nodes: power off the primary A; once B took over and inserts
   * landed, power off B and power A back on at the same moment; the third node must take over (A is a
   * crashed former primary, never a candidate before it is rewound) and A rejoins behind it; B comes
   * back last.
   */
  public static Scenario seedSequence(SynchronousMode mode, Workload.Options load) {
    return new Scenario("seed sequence: power off A, then B while A returns", 3, mode, load, 0.15, ctx -> {
      String a = ctx.primary();
      ctx.fault("power off " + a, () -> ctx.cluster().powerOff(a));
      String b = ctx.awaitLeaderOtherThan(a);
      ctx.awaitStreamingFrom(b, a);
      ctx.awaitMoreAcknowledged(load.count() / 10);
      ctx.fault("power off " + b + ", power on " + a, () -> {
        ctx.cluster().powerOff(b);
        ctx.cluster().startAgent(a);
      });
      ctx.awaitLeaderOtherThan(b);
      ctx.awaitMoreAcknowledged(load.count() / 10);
      ctx.heal("power on " + b, () -> ctx.cluster().startAgent(b));
    });
  }

  public static List<Scenario> core(SynchronousMode mode, Workload.Options load) {
    return List.of(powerOffPrimary(mode, load), killPrimaryAgent(mode, load), freezePrimaryAgent(mode, load),
        etcdDownLongerThanTtl(mode, load), etcdDownBriefly(mode, load), restartAllAgents(mode, load),
        seedSequence(mode, load));
  }

}
