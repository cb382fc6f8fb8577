package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.agent.local.LocalCluster;
import io.pgwarden.harness.cluster.TestCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agents of a cluster started the way `pgwarden local up` and bin/pgwarden start them map their
 * classes from the class-data sharing archive made from the class list in the jar. When a dependency
 * changes, the list goes stale and classes come from the jar again — the agents still work, only
 * larger — so this test is what notices; regenerating the list is described in docs/benchmarks.md
 * ("Idle RSS"). The rest runs bin/pgwarden ({@link Launcher}), as LauncherArchiveIT does, and
 * ClassDataSharing itself, for what they must not leave behind.
 */
class ClassDataSharingIT {
  /** For the launcher's tests: the jars' directory, where their archives go, and the launcher's runs. */
  @TempDir
  private Path dir;
  private Path jars;
  private Launcher launcher;

  @BeforeEach
  void folder() throws IOException {
    jars = Files.createDirectory(dir.resolve("jars"));
    launcher = new Launcher(dir);
  }

  @Test
  void agentsMapAlmostAllTheirClassesFromTheArchive() throws IOException {
    Path logs = Files.createTempDirectory("pgwarden-cds-");
    // The agents run as the unprivileged postgres user and write their class-loading logs here; sticky,
    // as /tmp is, so that nobody removes another's.
    Files.setAttribute(logs, "unix:mode", 01777);
    List<String> jvm = new ArrayList<>(TestCluster.AGENT_JVM);
    jvm.add("-Xlog:class+load=info:file=" + logs.resolve("classes-%p.log"));
    try (TestCluster c = TestCluster.start(3, TestCluster.TEST_TIMING, jvm, null, true)) {
      c.awaitHealthy();
      Path archive = c.local().dir().resolve("pgwarden.jsa");
      assertThat(archive).isRegularFile();
      for (String node : c.nodes()) {
        long pid = c.local().node(node).agentPid();
        assertThat(Files.readString(Path.of("/proc", Long.toString(pid), "maps")))
            .as("%s's agent maps the archive", node).contains(archive.toString());
        Path log = logs.resolve("classes-" + pid + ".log");
        // Named classes only: lambdas and method-handle forms spun at run time have no file to come from.
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(Files.readAllLines(log)).anyMatch(
            l -> l.contains("io.pgwarden.agent.loop.ReconcileLoop ")));
        List<String> loaded;
        try (Stream<String> lines = Files.lines(log)) {
          loaded = lines.filter(l -> l.contains(" source: ") && !l.contains("__")).toList();
        }
        long shared = loaded.stream().filter(l -> l.contains("source: shared objects file")).count();
        List<String> fromJar = loaded.stream().filter(l -> l.contains("source: file:")).toList();
        assertThat(shared).as("classes %s's agent mapped from the archive", node).isGreaterThan(4000);
        assertThat(shared * 100 / loaded.size())
            .as("%% of %s's %d named classes from the archive; read from the jar instead: %s — the class list "
                + "(agent/src/main/resources/io/pgwarden/agent/local/agent.classlist) is stale",
                node, loaded.size(), fromJar.stream().limit(20).toList())
            .isGreaterThanOrEqualTo(95);
      }
    }
  }

  @Test
  void aStartCutShortWhileTheArchiveIsMadeLeavesNothingBehind() throws Exception {
    Path jar = Launcher.copyJar(jars);
    Process started = launcher.agentHelp(jar, Map.of()).start();
    // As systemd stops a unit (KillMode=control-group): SIGTERM to each of its processes, here while
    // the JVM writes the archive.
    List<ProcessHandle> all = await("java -Xshare:dump under bin/pgwarden").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> Stream.concat(Stream.of(started.toHandle()), started.descendants()).toList(),
            l -> l.stream().anyMatch(ClassDataSharingIT::dumping));
    all.forEach(ProcessHandle::destroy);
    assertThat(started.waitFor(60, TimeUnit.SECONDS)).as("bin/pgwarden ended after SIGTERM").isTrue();
    assertThat(names(jars)).as("what the cut-short start left beside the jar").containsExactly("pgwarden.jar");
  }

  @Test
  void aDumpStoppedBySigtermEndsTheDumpingJvmAndLeavesNothingBehind() throws Exception {
    Path jar = Launcher.copyJar(jars);
    Path out = Files.createDirectory(dir.resolve("archives"));
    Path printed = Files.createTempFile(dir, "out-", ".txt");
    Process cds = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        jar.toString(), "io.pgwarden.agent.local.ClassDataSharing", jar.toString(), out.resolve("pgwarden.jsa").toString())
        .redirectErrorStream(true).redirectOutput(printed.toFile()).start();
    ProcessHandle dumper = await("java -Xshare:dump under ClassDataSharing").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> cds.descendants().filter(ClassDataSharingIT::dumping).findFirst(), Optional::isPresent)
        .orElseThrow();
    try {
      // SIGTERM to ClassDataSharing alone, as when bin/pgwarden's process is stopped but the dump is not:
      // the dumping JVM is a process of its own and would write on after its parent and the launcher's
      // trap are gone.
      cds.destroy();
      assertThat(cds.waitFor(60, TimeUnit.SECONDS)).as("ClassDataSharing ended after SIGTERM").isTrue();
      assertThat(dumper.isAlive()).as("java -Xshare:dump after its parent ended").isFalse();
      assertThat(names(out)).as("what the stopped dump left (its work directory, a partial archive)").isEmpty();
      // Nothing starts after a SIGTERM, so "the agent starts without it" would mislead.
      assertThat(Files.readString(printed)).doesNotContain("no class-data sharing archive");
    } finally {
      dumper.destroyForcibly();
    }
  }

  @Test
  void theArchiveInUseStaysAndThisUsersOthersForTheSameJarGoFromBothDirectories() throws Exception {
    Path jar = Launcher.copyJar(jars);
    // -Xshare:on: the JVM refuses to start unless it maps the archive it was given.
    launcher.runAgentHelp(jar, Map.of("PGWARDEN_JAVA_OPTS", "-Xshare:on"));
    String archive = names(jars).stream().filter(n -> n.endsWith(".jsa")).findFirst().orElseThrow();
    String samePath = archive.substring(0, archive.lastIndexOf('-') + 1);

    // One this user made in the cache before root made this one beside the jar (the install step),
    // and one of another user beside the jar, which is not this user's to delete.
    Path cache = Files.createDirectories(launcher.home().resolve(".cache/pgwarden"));
    Files.writeString(cache.resolve(samePath + "1.jsa"), "an older archive of this user's");
    Set<String> expected = new TreeSet<>(Set.of("pgwarden.jar", archive));
    if (LocalCluster.isRoot()) {
      Path foreign = Files.writeString(jars.resolve(samePath + "0.jsa"), "another user's archive");
      Files.setOwner(foreign, dir.getFileSystem().getUserPrincipalLookupService()
          .lookupPrincipalByName(LocalCluster.RUN_AS));
      expected.add(foreign.getFileName().toString());
    }
    launcher.runAgentHelp(jar, Map.of());
    assertThat(names(cache)).as("this user's older archive in the cache").isEmpty();
    assertThat(names(jars)).isEqualTo(expected);

    // The cache is the jar's directory under another name: the archive in use is not an "other" one.
    Files.delete(cache);
    Files.createSymbolicLink(cache, jars);
    launcher.runAgentHelp(jar, Map.of());
    assertThat(names(jars)).isEqualTo(expected);

    // A damaged archive costs memory, never the start: the JVM runs without it.
    Files.write(jars.resolve(archive), new byte[4096]);
    launcher.runAgentHelp(jar, Map.of());
  }

  private static boolean dumping(ProcessHandle h) {
    return h.info().arguments().map(List::of).orElse(List.of()).contains("-Xshare:dump");
  }

  private static Set<String> names(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
    }
  }
}
