package io.pgwarden.harness.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Only the idle part of {@link SideBySideBench} (RSS, CPU and etcd load of idle agents), for both tools
 * in one run, in ~10 minutes instead of ~35:
 * <pre>
 * mvn -B -o verify -pl test-harness -am -Pbench -Dtest=NoUnitTests -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dit.test=IdleFootprintBench -Dfailsafe.failIfNoSpecifiedTests=false
 * </pre>
 * -Dbench.idle=SECONDS (default 60). pgwarden runs with the operators' JVM options ({@code AgentJvm},
 * bin/pgwarden's). Writes target/bench/idle-footprint.{json,md}.
 */
class IdleFootprintBench {
  @Test
  void idleFootprint() throws Exception {
    int seconds = Integer.getInteger("bench.idle", 60);
    List<SideBySide.Bootstrap> boot = new ArrayList<>();
    List<SideBySide.Idle> idle = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    try (PgwardenCluster c = SideBySide.bootstrap(() -> PgwardenCluster.start(Map.of()),
        SideBySideBench.PGW_DEFAULTS, boot)) {
      idle.add(SideBySide.idle(c, SideBySideBench.PGW_DEFAULTS, seconds));
    } catch (Exception | AssertionError e) {
      errors.add("pgwarden: " + e);
    }
    boolean patroni = PatroniCluster.installed();
    if (patroni) {
      try (PatroniCluster c = SideBySide.bootstrap(() -> PatroniCluster.start(3, Map.of()),
          SideBySideBench.PAT_DEFAULTS, boot)) {
        idle.add(SideBySide.idle(c, SideBySideBench.PAT_DEFAULTS, seconds));
      } catch (Exception | AssertionError e) {
        errors.add("patroni: " + e);
      }
      Map<String, Object> equal = Map.of("ttl", 10, "loop_wait", 2, "retry_timeout", 4, "synchronous_mode", true);
      try (PatroniCluster c = SideBySide.bootstrap(() -> PatroniCluster.start(3, equal), SideBySideBench.PAT_EQUAL,
          boot)) {
        idle.add(SideBySide.idle(c, SideBySideBench.PAT_EQUAL, seconds));
      } catch (Exception | AssertionError e) {
        errors.add("patroni-equal: " + e);
      }
    }
    Map<String, String> env = new LinkedHashMap<>();
    env.put("nproc", Integer.toString(Runtime.getRuntime().availableProcessors()));
    env.put("java", System.getProperty("java.version"));
    env.put("pgwarden agent JVM", String.join(" ", io.pgwarden.agent.local.AgentJvm.OPTIONS) + " with "
        + io.pgwarden.agent.local.AgentJvm.ENVIRONMENT);
    env.put("patroni", patroni ? PatroniCluster.version() : "not installed");
    env.put("loadavg at end", Files.readString(Path.of("/proc/loadavg")).strip());
    env.put("errors", errors.isEmpty() ? "none" : String.join(" // ", errors));
    String cmd = "mvn -B -o verify -pl test-harness -am -Pbench -Dtest=NoUnitTests -Dsurefire.failIfNoSpecifiedTests=false"
        + " -Dit.test=IdleFootprintBench -Dfailsafe.failIfNoSpecifiedTests=false -Dbench.idle=" + seconds;
    SideBySide.Report r = new SideBySide.Report(env, cmd, boot, idle, List.of(), List.of());
    SideBySide.write(Path.of("target", "bench"), "idle-footprint", r);
    System.out.println(SideBySide.markdown(r));
  }
}
