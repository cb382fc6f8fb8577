package io.pgwarden.harness.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * pgwarden and Patroni side by side, in one run (issue 6). Not part of the default build:
 * <pre>
 * mvn -B -o verify -pl test-harness -am -Pbench -Dit.test=SideBySideBench -Dfailsafe.failIfNoSpecifiedTests=false
 * </pre>
 * -Dbench.runs=N (default 5), -Dbench.idle=SECONDS (default 60), -Dbench.scenarios=a,b (default all of
 * pgwarden, pgwarden-fast, patroni, patroni-sync, patroni-equal). Patroni scenarios are skipped when
 * {@code patroni} is not on PATH. Writes target/bench/side-by-side.{json,md}.
 */
class SideBySideBench {
  static final String PGW_DEFAULTS = "defaults: ttl 10, loop_wait 2, retry_timeout 4, sync on";
  static final String PGW_FAST = "fast: ttl 5, loop_wait 1, retry_timeout 2, sync on";
  static final String PAT_DEFAULTS = "defaults: ttl 30, loop_wait 10, retry_timeout 10, sync off";
  static final String PAT_SYNC = "defaults + synchronous_mode on";
  static final String PAT_EQUAL = "pgwarden's timing: ttl 10, loop_wait 2, retry_timeout 4, sync on";

  @Test
  void sideBySide() throws Exception {
    int runs = Integer.getInteger("bench.runs", 5);
    int idleSeconds = Integer.getInteger("bench.idle", 60);
    Set<String> scenarios = Set.of(System.getProperty("bench.scenarios",
        "pgwarden,pgwarden-fast,patroni,patroni-sync,patroni-equal").split(","));
    boolean patroni = PatroniCluster.installed();
    List<SideBySide.Bootstrap> boot = new ArrayList<>();
    List<SideBySide.Idle> idle = new ArrayList<>();
    List<SideBySide.Switchover> sw = new ArrayList<>();
    List<SideBySide.Failover> fo = new ArrayList<>();

    if (scenarios.contains("pgwarden")) {
      try (PgwardenCluster c = SideBySide.bootstrap(() -> PgwardenCluster.start(Map.of()), PGW_DEFAULTS, boot)) {
        idle.add(SideBySide.idle(c, PGW_DEFAULTS, idleSeconds));
        sw.add(SideBySide.switchover(c, PGW_DEFAULTS, runs));
        fo.add(SideBySide.failover(c, PGW_DEFAULTS, runs));
      }
    }
    if (patroni && scenarios.contains("patroni")) {
      try (PatroniCluster c = SideBySide.bootstrap(() -> PatroniCluster.start(3, Map.of()), PAT_DEFAULTS, boot)) {
        idle.add(SideBySide.idle(c, PAT_DEFAULTS, idleSeconds));
        sw.add(SideBySide.switchover(c, PAT_DEFAULTS, runs));
        fo.add(SideBySide.failover(c, PAT_DEFAULTS, runs));
      }
    }
    if (scenarios.contains("pgwarden-fast")) {
      Map<String, Object> fast = Map.of("ttl", 5, "loop_wait", 1, "retry_timeout", 2);
      try (PgwardenCluster c = SideBySide.bootstrap(() -> PgwardenCluster.start(fast), PGW_FAST, boot)) {
        fo.add(SideBySide.failover(c, PGW_FAST, runs));
      }
    }
    if (patroni && scenarios.contains("patroni-equal")) {
      Map<String, Object> equal = Map.of("ttl", 10, "loop_wait", 2, "retry_timeout", 4, "synchronous_mode", true);
      try (PatroniCluster c = SideBySide.bootstrap(() -> PatroniCluster.start(3, equal), PAT_EQUAL, boot)) {
        fo.add(SideBySide.failover(c, PAT_EQUAL, runs));
      }
    }
    if (patroni && scenarios.contains("patroni-sync")) {
      try (PatroniCluster c = SideBySide.bootstrap(() -> PatroniCluster.start(3, Map.of("synchronous_mode", true)),
          PAT_SYNC, boot)) {
        fo.add(SideBySide.failover(c, PAT_SYNC, runs));
      }
    }

    Map<String, String> env = new LinkedHashMap<>();
    env.put("nproc", Integer.toString(Runtime.getRuntime().availableProcessors()));
    env.put("memory", Files.readAllLines(Path.of("/proc/meminfo")).get(0).replaceAll("\\s+", " "));
    env.put("kernel", System.getProperty("os.version"));
    env.put("java", System.getProperty("java.version"));
    env.put("pgwarden agent JVM", "-Xms16m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError");
    env.put("postgresql", PatroniCluster.run(List.of("/usr/lib/postgresql/15/bin/postgres", "--version"),
        java.time.Duration.ofSeconds(30)).strip());
    env.put("etcd", PatroniCluster.run(List.of("etcd", "--version"), java.time.Duration.ofSeconds(30)).lines()
        .findFirst().orElse("?"));
    env.put("patroni", patroni ? PatroniCluster.version() : "not installed");
    env.put("loadavg at end", Files.readString(Path.of("/proc/loadavg")).strip());
    String cmd = "mvn -B -o verify -pl test-harness -am -Pbench -Dit.test=SideBySideBench "
        + "-Dfailsafe.failIfNoSpecifiedTests=false -Dbench.runs=" + runs + " -Dbench.idle=" + idleSeconds
        + (System.getProperty("bench.scenarios") == null ? "" : " -Dbench.scenarios=" + System.getProperty("bench.scenarios"));
    SideBySide.Report r = new SideBySide.Report(env, cmd, boot, idle, sw, fo);
    System.out.println(SideBySide.markdown(r));
    SideBySide.write(Path.of("target", "bench"), "side-by-side", r);
  }
}
