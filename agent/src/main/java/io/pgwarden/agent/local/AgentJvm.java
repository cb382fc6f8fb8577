package io.pgwarden.agent.local;

import java.util.List;
import java.util.Map;

/**
 * How an agent's JVM is started: the options and environment of {@code bin/pgwarden} (and so of the
 * container image and the systemd unit, which run it), repeated here for the agents that
 * {@code pgwarden local up} and the test harness start, so tests run what operators run.
 * {@code AgentJvmTest} keeps the launcher and this class in step. Why each one, with measurements:
 * docs/benchmarks.md, "Idle RSS".
 */
public final class AgentJvm {
  /**
   * Sized for a small idle footprint that still survives a burst (a 3 MB cluster view read while the
   * REST API is polled hard): the heap starts small and may grow to 128 MB; a 3 MB young generation (a
   * collection every half minute or so when idle) keeps ~1 MiB less resident than 4 MB. The process exits on an
   * OutOfMemoryError rather than run on with threads that died of it (a leader whose reads fail while
   * its lease renewals succeed would be blind to its cluster). C1 compiles only what runs 20 times
   * more often than its default threshold: the loop's once-per-tick code stays interpreted, which
   * roughly doubles the idle loop thread's CPU (~0.15 % instead of ~0.08 % at a 2 s loop) but keeps
   * 4–6 MiB of compiled code and compiler memory out of an idle agent, while parsing and the network
   * stack still compile under load. Vert.x (under
   * jetcd) resolves names with the JDK instead of its own DNS client, which nothing of jetcd uses: gRPC
   * resolves the etcd endpoints itself (~90 classes fewer).
   */
  public static final List<String> OPTIONS = List.of(
      "-Xms16m", "-Xmx128m", "-Xmn3m", "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-XX:CompileThresholdScaling=20", "-XX:-UsePerfData",
      "-Dio.netty.jfr.enabled=false", "-Dio.netty.allocator.type=unpooled", "-Dvertx.disableDnsResolver=true",
      "-XX:+ExitOnOutOfMemoryError");

  /**
   * glibc keeps what the JVM freed (class parsing, compilations) for reuse that mostly never comes;
   * the JVM hands it back every 30 s (~1 MiB of an idle agent). JDK 17.0.9 and 21.0.1 brought the
   * option, experimental at first; older JVMs refuse to start with it.
   */
  static final List<String> NATIVE_HEAP_TRIM =
      List.of("-XX:+UnlockExperimentalVMOptions", "-XX:TrimNativeHeapInterval=30000");

  /**
   * An idle JVM wakes its VM thread every second for a "guaranteed" safepoint and its monitor deflation
   * thread four times a second, whether there is anything to clean up or not: ~15 % of an idle agent's
   * CPU (docs/benchmarks.md, "Idle CPU"). Every 10 s is plenty for an agent that inflates few monitors
   * and collects its young generation every half minute anyway. Diagnostic options whose meaning
   * may change between JDK releases, and a JVM refuses to start with an option it does not know: only
   * on the releases they were measured on, 17 and 25, and those between.
   */
  static final List<String> QUIET_TIMERS = List.of("-XX:+UnlockDiagnosticVMOptions",
      "-XX:GuaranteedSafepointInterval=10000", "-XX:AsyncDeflationInterval=10000");

  /** {@link #OPTIONS}, and what this JVM (which starts the agents from its own java.home) supports. */
  public static List<String> options() {
    List<String> all = new java.util.ArrayList<>(OPTIONS);
    all.addAll(nativeHeapTrim(Runtime.version()));
    all.addAll(quietTimers(Runtime.version()));
    return List.copyOf(all);
  }

  static List<String> quietTimers(Runtime.Version v) {
    return v.feature() >= 17 && v.feature() <= 25 ? QUIET_TIMERS : List.of();
  }

  static List<String> nativeHeapTrim(Runtime.Version v) {
    boolean supported = (v.feature() == 17 && v.update() >= 9) || (v.feature() == 21 && v.update() >= 1)
        || v.feature() >= 22;
    return supported ? NATIVE_HEAP_TRIM : List.of();
  }

  /** glibc keeps a malloc arena per thread (up to 8 per core); two are plenty for the agent. */
  public static final Map<String, String> ENVIRONMENT = Map.of("MALLOC_ARENA_MAX", "2");

  private AgentJvm() {}
}
