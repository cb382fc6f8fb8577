package io.pgwarden.harness.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * pgwarden and Patroni side by side, in one run (issue 6). Not part of the default build:
 * <pre>
 * mvn -B -o verify -pl test-harness -am -Pbench -Dtest=NoUnitTests -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dit.test=SideBySideBench -Dfailsafe.failIfNoSpecifiedTests=false
 * </pre>
 * -Dbench.runs=N (default 5), -Dbench.idle=SECONDS (default 60), -Dbench.idleSettle=SECONDS (default 0: how
 * long a ready cluster sits before its idle window opens, the same for every tool), -Dbench.scenarios=a,b
 * (default all of pgwarden, patroni, patroni-equal, patroni-equal-async, pgwarden-fast, patroni-sync,
 * pgwarden-lean, pgwarden-patroni-timing),
 * -Dbench.parts=a,b (default all
 * of idle, switchover, failover; bootstrap is always measured since every scenario starts a cluster; a
 * scenario with none of its parts selected is not started), -Dbench.baselineJar=JAR (also measure the selected
 * parts with another agent build, e.g. the one before a change, in the same run). Patroni scenarios are
 * skipped when {@code patroni} is not on PATH. Each scenario runs on its own fresh cluster; one that fails is
 * recorded and the others still run. Writes target/bench/side-by-side.{json,md} after every scenario
 * (-Dbench.name=NAME for another name).
 */
class SideBySideBench {
  static final String PGW_DEFAULTS = "defaults: ttl 10, loop_wait 2, retry_timeout 4, sync on";
  static final FastProfile FAST = FastProfile.current();
  static final String PGW_FAST = FAST.label();
  static final String PAT_DEFAULTS = "defaults: ttl 30, loop_wait 10, retry_timeout 10, sync off";
  static final String PAT_SYNC = "defaults + synchronous_mode on";
  static final String PAT_EQUAL = "pgwarden's timing: ttl 10, loop_wait 2, retry_timeout 4, sync on";
  static final String PGW_AT_PATRONI = "Patroni's timing: ttl 30, loop_wait 10, retry_timeout 10, sync on";
  static final String PAT_EQUAL_ASYNC = "pgwarden's timing, asynchronous: ttl 10, loop_wait 2, retry_timeout 4, sync off";
  static final String SETTLED = "; standbys settled on the new timeline before each";
  /** Patroni at pgwarden's default timing, synchronous as pgwarden's defaults are. */
  static final Map<String, Object> PAT_EQUAL_CONFIG =
      Map.of("ttl", 10, "loop_wait", 2, "retry_timeout", 4, "synchronous_mode", true);
  /** pgwarden at Patroni's default timing. */
  static final Map<String, Object> PGW_AT_PATRONI_CONFIG = Map.of("ttl", 30, "loop_wait", 10, "retry_timeout", 10);

  interface Scenario {
    void run() throws Exception;
  }

  final List<SideBySide.Bootstrap> boot = new ArrayList<>();
  final List<SideBySide.Idle> idle = new ArrayList<>();
  final List<SideBySide.Switchover> sw = new ArrayList<>();
  final List<SideBySide.Failover> fo = new ArrayList<>();
  final List<String> errors = new ArrayList<>();

  @Test
  void sideBySide() throws Exception {
    int runs = Integer.getInteger("bench.runs", 5);
    int idleSeconds = Integer.getInteger("bench.idle", 60);
    Set<String> scenarios = Set.of(System.getProperty("bench.scenarios",
        "pgwarden,patroni,patroni-equal,patroni-equal-async,pgwarden-fast,patroni-sync,pgwarden-lean,"
            + "pgwarden-patroni-timing").split(","));
    boolean patroni = PatroniCluster.installed();
    Set<String> parts = parts();
    boolean idlePart = parts.contains("idle");
    boolean swPart = parts.contains("switchover");
    boolean foPart = parts.contains("failover");

    if (scenarios.contains("pgwarden") && (idlePart || swPart || foPart)) {
      scenario("pgwarden", () -> {
        try (PgwardenCluster c = SideBySide.bootstrap(() -> PgwardenCluster.start(Map.of()), PGW_DEFAULTS, boot)) {
          measure(c, PGW_DEFAULTS, idlePart ? idleSeconds : 0, swPart ? runs : 0, foPart ? runs : 0);
        }
      });
    }
    String baseline = System.getProperty("bench.baselineJar");
    if (baseline != null && (idlePart || swPart || foPart)) {
      // Another build of the agent (e.g. the one before a change), the same parts, in the same run.
      scenario("pgwarden-baseline", () -> {
        String label = baselineLabel(baseline);
        try (PgwardenCluster c = SideBySide.bootstrap(() -> startBaseline(baseline), label, boot)) {
          measure(c, label, idlePart ? idleSeconds : 0, swPart ? runs : 0, foPart ? runs : 0);
        }
      });
    }
    if (patroni && scenarios.contains("patroni") && (idlePart || swPart || foPart)) {
      scenario("patroni", () -> {
        try (PatroniCluster c = SideBySide.bootstrap(() -> PatroniCluster.start(3, Map.of()), PAT_DEFAULTS, boot)) {
          measure(c, PAT_DEFAULTS, idlePart ? idleSeconds : 0, swPart ? runs : 0, foPart ? runs : 0);
        }
      });
    }
    if (patroni && scenarios.contains("patroni-equal") && (idlePart || swPart || foPart)) {
      scenario("patroni-equal", () -> {
        Map<String, Object> equal = PAT_EQUAL_CONFIG;
        try (PatroniCluster c = SideBySide.bootstrap(() -> PatroniCluster.start(3, equal), PAT_EQUAL, boot)) {
          // Idle cost at the same loop_wait as pgwarden's defaults: the loop period drives etcd load and CPU.
          // Switchovers in synchronous mode, as pgwarden's defaults run: how long each new primary has none.
          measure(c, PAT_EQUAL, idlePart ? idleSeconds : 0, swPart ? runs : 0, foPart ? runs : 0);
        }
      });
    }
    if (patroni && scenarios.contains("patroni-equal-async") && foPart) {
      scenario("patroni-equal-async", () -> {
        // The equal-ttl failover comparison without Patroni's synchronous-mode stall (docs/benchmarks.md):
        // asynchronous Patroni has fewer conditions to meet before it promotes, so this favours Patroni.
        Map<String, Object> equal = Map.of("ttl", 10, "loop_wait", 2, "retry_timeout", 4);
        try (PatroniCluster c = SideBySide.bootstrap(() -> PatroniCluster.start(3, equal), PAT_EQUAL_ASYNC, boot)) {
          fo.add(SideBySide.failover(c, PAT_EQUAL_ASYNC, runs));
        }
      });
    }
    if (scenarios.contains("pgwarden-fast") && foPart) {
      scenario("pgwarden-fast", () -> {
        Map<String, Object> fast = FAST.config();
        PgwardenCluster c;
        String label = PGW_FAST;
        try {
          c = SideBySide.bootstrap(() -> PgwardenCluster.start(fast), PGW_FAST, boot);
        } catch (RuntimeException e) {
          // Bootstrapping at the fast profile's ttl can fail when initdb outlasts the lease (see docs/benchmarks.md);
          // measure the failover at the fast profile anyway, on a cluster bootstrapped at the defaults and switched
          // over.
          errors.add("pgwarden bootstrap at " + PGW_FAST + ": " + e);
          boot.add(new SideBySide.Bootstrap("pgwarden", PGW_FAST + " FAILED: " + e.getMessage().lines().findFirst()
              .orElse(""), -1));
          label = PGW_FAST + " (bootstrapped at the defaults, then set-config)";
          c = SideBySide.bootstrap(() -> PgwardenCluster.start(Map.of()), PGW_DEFAULTS + " (for the fast profile)",
              boot);
          c.setConfig(FAST.setConfigArgs());
        }
        try (PgwardenCluster cc = c) {
          fo.add(SideBySide.failover(cc, label, runs));
        }
      });
    }
    if (patroni && scenarios.contains("patroni-sync") && foPart) {
      scenario("patroni-sync", () -> {
        try (PatroniCluster c = SideBySide.bootstrap(() -> PatroniCluster.start(3, Map.of("synchronous_mode", true)),
            PAT_SYNC, boot)) {
          fo.add(SideBySide.failover(c, PAT_SYNC, runs));
        }
      });
    }
    if (scenarios.contains("pgwarden-lean") && idlePart) {
      scenario("pgwarden-lean", () -> {
        // The probe flags (not bin/pgwarden's): how far JVM tuning alone gets the idle agent.
        List<String> lean = List.of("-Xms16m", "-Xmx64m", "-Xmn4m", "-Xss512k", "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-XX:ReservedCodeCacheSize=16m",
            "-XX:MaxMetaspaceSize=64m", "-XX:MaxDirectMemorySize=32m", "-XX:+ExitOnOutOfMemoryError");
        String label = "defaults, JVM flags of the issue's probe";
        try (PgwardenCluster c = SideBySide.bootstrap(() -> PgwardenCluster.start(Map.of(), lean), label, boot)) {
          idle.add(idle(c, label, idleSeconds));
        }
      });
    }
    if (scenarios.contains("pgwarden-patroni-timing") && idlePart) {
      scenario("pgwarden-patroni-timing", () -> {
        // The other equal-timing comparison of the idle cost: pgwarden at Patroni's defaults, whose loop runs
        // 5x less often than at pgwarden's own, so that etcd load and CPU are compared loop for loop.
        Map<String, Object> slow = PGW_AT_PATRONI_CONFIG;
        try (PgwardenCluster c = SideBySide.bootstrap(() -> PgwardenCluster.start(slow), PGW_AT_PATRONI, boot)) {
          idle.add(idle(c, PGW_AT_PATRONI, idleSeconds));
        }
      });
    }
    System.out.println(SideBySide.markdown(report(runs, idleSeconds, patroni)));
  }

  /** The machine, the versions and the agent's JVM options, for a report's header. */
  static Map<String, String> environment(boolean patroni, List<String> errors) throws Exception {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("nproc", Integer.toString(Runtime.getRuntime().availableProcessors()));
    env.put("memory", Files.readAllLines(Path.of("/proc/meminfo")).get(0).replaceAll("\\s+", " "));
    env.put("kernel", System.getProperty("os.version"));
    env.put("java", System.getProperty("java.version"));
    env.put("pgwarden agent JVM", String.join(" ", io.pgwarden.harness.cluster.TestCluster.AGENT_JVM)
        + " -XX:SharedArchiveFile=(the cluster's class-data sharing archive)");
    env.put("postgresql", PatroniCluster.run(List.of("/usr/lib/postgresql/15/bin/postgres", "--version"),
        Duration.ofSeconds(30)).strip());
    env.put("etcd", PatroniCluster.run(List.of("etcd", "--version"), Duration.ofSeconds(30)).lines()
        .findFirst().orElse("?"));
    env.put("patroni", patroni ? PatroniCluster.version() : "not installed");
    env.put("loadavg at end", Files.readString(Path.of("/proc/loadavg")).strip());
    env.put("scenario errors", errors.isEmpty() ? "none" : String.join(" // ", errors));
    return env;
  }

  /** The selected parts on one cluster, in this order; 0 seconds or runs skips a part. */
  private void measure(BenchCluster c, String settings, int idleSeconds, int switchovers, int failovers)
      throws Exception {
    if (idleSeconds > 0) {
      idle.add(idle(c, settings, idleSeconds));
    }
    if (switchovers > 0) {
      sw.add(SideBySide.switchover(c, settings + "; back to back", switchovers, false));
      sw.add(SideBySide.switchover(c, settings + SETTLED, switchovers, true));
    }
    if (failovers > 0) {
      fo.add(SideBySide.failover(c, settings, failovers));
    }
  }

  /** The idle part, after the settle time of -Dbench.idleSettle (named in the row when there is one). */
  private static SideBySide.Idle idle(BenchCluster c, String settings, int seconds) throws Exception {
    int settle = Integer.getInteger("bench.idleSettle", 0);
    return SideBySide.idle(c, settle > 0 ? settings + "; after " + settle + " s idle" : settings, seconds, settle);
  }

  private static Set<String> parts() {
    Set<String> all = Set.of("idle", "switchover", "failover");
    Set<String> parts = Set.of(System.getProperty("bench.parts", String.join(",", all)).split(","));
    for (String p : parts) {
      if (!all.contains(p)) {
        throw new IllegalArgumentException("bench.parts: unknown part '" + p + "' (known: " + all + ")");
      }
    }
    return parts;
  }

  private void scenario(String name, Scenario s) throws Exception {
    try {
      s.run();
    } catch (Exception | AssertionError e) {
      System.out.println("scenario " + name + " FAILED: " + e);
      errors.add(name + ": " + e);
    }
    SideBySide.write(Path.of("target", "bench"), System.getProperty("bench.name", "side-by-side"),
        report(Integer.getInteger("bench.runs", 5), Integer.getInteger("bench.idle", 60), PatroniCluster.installed()));
  }

  private SideBySide.Report report(int runs, int idleSeconds, boolean patroni) throws Exception {
    Map<String, String> env = environment(patroni, errors);
    String cmd = "mvn -B -o verify -pl test-harness -am -Pbench -Dtest=NoUnitTests -Dsurefire.failIfNoSpecifiedTests=false"
        + " -Dit.test=SideBySideBench -Dfailsafe.failIfNoSpecifiedTests=false -Dbench.runs=" + runs
        + " -Dbench.idle=" + idleSeconds
        + (System.getProperty("bench.scenarios") == null ? "" : " -Dbench.scenarios=" + System.getProperty("bench.scenarios"))
        + (System.getProperty("bench.parts") == null ? "" : " -Dbench.parts=" + System.getProperty("bench.parts"))
        + (System.getProperty("bench.baselineJar") == null ? "" : " -Dbench.baselineJar=" + System.getProperty("bench.baselineJar"));
    return new SideBySide.Report(env, cmd, boot, idle, sw, fo);
  }

  /** A cluster of another agent build at pgwarden's defaults (the jar is read only when a cluster starts). */
  static PgwardenCluster startBaseline(String jar) {
    String own = System.getProperty("pgwarden.jar");
    System.setProperty("pgwarden.jar", jar);
    try {
      return PgwardenCluster.start(Map.of());
    } finally {
      System.setProperty("pgwarden.jar", own);
    }
  }

  static String baselineLabel(String jar) {
    return PGW_DEFAULTS + "; baseline jar " + Path.of(jar).getFileName();
  }
}
