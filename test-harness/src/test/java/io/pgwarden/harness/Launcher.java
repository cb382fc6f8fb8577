package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * bin/pgwarden as operators run it, for the tests of what it does with class-data sharing archives:
 * `pgwarden agent --help`, which makes or finds the archive of the jar and this JVM and sweeps the older
 * ones, then prints the usage. Everything of a run but the jar stays under one directory: a home of its
 * own (so no real cache directory is touched) and the output.
 */
final class Launcher {
  private static final Path SCRIPT = Path.of("..", "bin", "pgwarden").toAbsolutePath().normalize();
  private final Path work;

  Launcher(Path work) {
    this.work = work;
  }

  /** A copy of the build's jar in {@code dir}: the archives go beside it, so not beside the build's. */
  static Path copyJar(Path dir) throws IOException {
    return Files.copy(Path.of(System.getProperty("pgwarden.jar")), dir.resolve("pgwarden.jar"));
  }

  /** The HOME of its runs; the cache directory, when the jar's is not writable, is .cache/pgwarden in it. */
  Path home() {
    return work.resolve("home");
  }

  /** `pgwarden agent --help` on {@code jar}, not started yet; {@code env} comes last. */
  ProcessBuilder agentHelp(Path jar, Map<String, String> env) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(SCRIPT.toString(), "agent", "--help").redirectErrorStream(true)
        .redirectOutput(Files.createTempFile(work, "out-", ".txt").toFile());
    Map<String, String> e = pb.environment();
    e.remove("CACHE_DIRECTORY");
    e.remove("XDG_CACHE_HOME");
    e.remove("PGWARDEN_CDS");
    e.remove("PGWARDEN_JAVA_OPTS");
    e.put("HOME", home().toString());
    e.put("JAVA_HOME", System.getProperty("java.home"));
    e.put("PGWARDEN_JAR", jar.toString());
    e.putAll(env);
    return pb;
  }

  /** Runs {@link #agentHelp} to its end: it prints the usage and exits 0, in 2 minutes at most. */
  void runAgentHelp(Path jar, Map<String, String> env) throws Exception {
    ProcessBuilder pb = agentHelp(jar, env);
    Process p = pb.start();
    if (!p.waitFor(2, TimeUnit.MINUTES)) {
      // bash's children first (ClassDataSharing and its dumping JVM): they would outlive it on CI.
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    String out = Files.readString(pb.redirectOutput().file().toPath(), StandardCharsets.ISO_8859_1);
    assertThat(p.isAlive()).as("bin/pgwarden agent --help after 2 minutes:%n%s", out).isFalse();
    assertThat(p.exitValue()).as("bin/pgwarden agent --help:%n%s", out).isZero();
    assertThat(out).contains("Usage: pgwarden agent");
  }
}
