package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/pgwarden as operators run it makes the class-data sharing archive beside the jar, and a new
 * archive for an updated jar at the same path replaces the old one: each left behind is ~45 MB. Another
 * jar's archive in the same directory stays, and so does another JDK's for the same jar, which it would
 * otherwise remake at every start.
 */
class LauncherArchiveIT {
  @TempDir
  private Path dir;
  /** The jar's directory, which is writable: the archives go there, the cache is only the fallback. */
  private Path jars;
  private Launcher launcher;

  @BeforeEach
  void folder() throws IOException {
    jars = Files.createDirectory(dir.resolve("jars"));
    launcher = new Launcher(dir);
  }

  @Test
  void anUpdatedJarsArchiveReplacesTheOldOneAndLeavesOtherJarsArchives() throws Exception {
    Path jar = Launcher.copyJar(jars);
    Path first = firstStart(jar);
    String name = first.getFileName().toString();
    assertThat(name).matches("pgwarden-[0-9]+-[0-9]+-[0-9]+\\.jsa");
    String pathSum = name.split("-")[1];
    Path otherJars = jars.resolve("pgwarden-" + another(pathSum) + "-x.jsa");
    Files.writeString(otherJars, "another jar's archive");

    // An update of the jar in place, as a package or a copy would leave it.
    Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 60_000));
    launcher.runAgentHelp(jar, Map.of());

    List<Path> second = archives();
    assertThat(second).as("archives after the jar changed").hasSize(2).contains(otherJars)
        .doesNotContain(first);
    assertThat(second).anyMatch(p -> p.getFileName().toString().startsWith("pgwarden-" + pathSum + "-"));
    try (Stream<Path> files = Files.list(jars)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .as("nothing but the jar and the archives (no work directory of the dump)")
          .containsExactlyInAnyOrder("pgwarden.jar", otherJars.getFileName().toString(),
              second.stream().filter(p -> !p.equals(otherJars)).findFirst().orElseThrow().getFileName().toString());
    }
  }

  @Test
  void anotherJdksArchiveOfTheSameJarStaysWhileThisJdksOlderOnesAndThePreviousReleasesGo() throws Exception {
    Path jar = Launcher.copyJar(jars);
    Path archive = firstStart(jar);
    String[] sums = archive.getFileName().toString().replace(".jsa", "").split("-");
    String pathSum = sums[1];
    String jvmSum = sums[2];

    // The launcher goes by the names alone, so a name stands in for a second JDK: one at another path
    // runs the same jar with an archive of its own (a symlinked JDK would not do; readlink -f resolves
    // it to this one).
    Path otherJdks = Files.writeString(jars.resolve("pgwarden-" + pathSum + "-" + another(jvmSum) + "-1.jsa"),
        "another JDK's archive of this jar");
    // This JDK's before it was updated in place (same path), and the previous release's name, which
    // carried no JDK.
    Path olderOfThisJdk = Files.writeString(
        jars.resolve("pgwarden-" + pathSum + "-" + jvmSum + "-" + another(sums[3]) + ".jsa"), "an older archive");
    Path previousRelease = Files.writeString(jars.resolve("pgwarden-" + pathSum + "-" + sums[3] + ".jsa"),
        "the previous release's archive of this jar");

    launcher.runAgentHelp(jar, Map.of());
    assertThat(archives()).as("archives after a start that found its own")
        .containsExactlyInAnyOrder(archive, otherJdks)
        .doesNotContain(olderOfThisJdk, previousRelease);
  }

  /** A checksum other than {@code sum}, in the same digits-only form. */
  private static String another(String sum) {
    return sum.equals("1") ? "2" : "1";
  }

  /** Starts the launcher on {@code jar} for the first time: it makes one archive, returned. */
  private Path firstStart(Path jar) throws Exception {
    launcher.runAgentHelp(jar, Map.of());
    List<Path> first = archives();
    assertThat(first).as("archives after the first start").hasSize(1);
    return first.get(0);
  }

  private List<Path> archives() throws IOException {
    try (Stream<Path> files = Files.list(jars)) {
      return files.filter(p -> p.getFileName().toString().endsWith(".jsa")).sorted().toList();
    }
  }
}
