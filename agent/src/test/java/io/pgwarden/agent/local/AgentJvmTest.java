package io.pgwarden.agent.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The launcher operators run (bin/pgwarden, also in the image and the systemd unit) and AgentJvm agree. */
class AgentJvmTest {
  private static final Path LAUNCHER = Path.of("..", "bin", "pgwarden");

  @Test
  void theLauncherStartsTheAgentWithTheSameOptionsAsLocalClustersAndTests() throws Exception {
    String script = Files.readString(LAUNCHER);
    Matcher m = Pattern.compile("(?m)^default_opts=\"([^\"]*)\"$").matcher(script);
    assertThat(m.find()).as("default_opts=\"...\" in " + LAUNCHER).isTrue();
    assertThat(List.of(m.group(1).split(" "))).containsExactlyElementsOf(AgentJvm.OPTIONS);
  }

  @Test
  void theLauncherSetsTheSameEnvironmentAndAlwaysExitsOnOutOfMemory() throws Exception {
    String script = Files.readString(LAUNCHER);
    AgentJvm.ENVIRONMENT.forEach((k, v) -> assertThat(script).contains("export " + k + "=\"${" + k + ":-" + v + "}\""));
    assertThat(script).contains("${extra[@]+\"${extra[@]}\"} ${PGWARDEN_JAVA_OPTS:-$default_opts} -XX:+ExitOnOutOfMemoryError -jar");
    assertThat(AgentJvm.OPTIONS).contains("-XX:+ExitOnOutOfMemoryError");
  }

  @ParameterizedTest
  @CsvSource({"17.0.8, false", "17.0.9, true", "17.0.15, true", "18.0.2, false", "20, false", "21, false",
      "21.0.1, true", "22, true", "25.0.1, true", "17.0.9-ea, true", "21-ea, false", "25-ea, true"})
  void nativeHeapTrimOnlyWhereTheJvmHasTheOption(String version, boolean expected) {
    assertThat(AgentJvm.nativeHeapTrim(Runtime.Version.parse(version)))
        .isEqualTo(expected ? AgentJvm.NATIVE_HEAP_TRIM : List.of());
  }

  @ParameterizedTest
  @CsvSource({"16.0.2, false", "17, true", "17.0.15, true", "21.0.5, true", "25.0.3, true", "26, false",
      "25-ea, true", "26-ea, false"})
  void quietTimersOnlyOnTheReleasesTheyWereMeasuredOn(String version, boolean expected) {
    assertThat(AgentJvm.quietTimers(Runtime.Version.parse(version)))
        .isEqualTo(expected ? AgentJvm.QUIET_TIMERS : List.of());
  }

  @Test
  void theLauncherQuietsTheSameTimersOnTheSameReleases() throws Exception {
    String script = Files.readString(LAUNCHER);
    assertThat(script).contains("extra+=(" + String.join(" ", AgentJvm.QUIET_TIMERS) + ")")
        .contains("[ \"$major\" -ge 17 ] && [ \"$major\" -le 25 ]");
    assertThat(AgentJvm.options()).containsAll(AgentJvm.quietTimers(Runtime.version()));
  }

  /**
   * The launcher reads the version from the JDK's release file with bash, AgentJvm from Runtime.Version:
   * run it with a JDK whose java prints its arguments, for versions on both sides of each bound and
   * early-access ones.
   */
  @ParameterizedTest
  @ValueSource(strings = {"16.0.2", "17", "17.0.8", "17.0.9", "17.0.9-ea", "18.0.2", "21", "21-ea", "21.0.1",
      "22", "25-ea", "25", "25.0.1", "26-ea", "26"})
  void theLauncherAddsWhatAgentJvmAddsForTheJdksVersion(String version, @TempDir Path jdk) throws Exception {
    Path java = Files.createDirectory(jdk.resolve("bin")).resolve("java");
    Files.writeString(java, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwx------"));
    Files.writeString(jdk.resolve("release"), "JAVA_VERSION=\"" + version + "\"\n");
    ProcessBuilder pb = new ProcessBuilder(LAUNCHER.toString(), "agent", "--help").redirectErrorStream(true);
    pb.environment().put("JAVA_HOME", jdk.toString());
    pb.environment().put("PGWARDEN_JAR", Files.createFile(jdk.resolve("pgwarden.jar")).toString());
    pb.environment().put("PGWARDEN_CDS", "off");
    pb.environment().remove("PGWARDEN_JAVA_OPTS");
    Process p = pb.start();
    List<String> args = List.of(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n"));
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join("\n", args)).isZero();

    Runtime.Version v = Runtime.Version.parse(version);
    List<String> expected = new ArrayList<>(AgentJvm.nativeHeapTrim(v));
    expected.addAll(AgentJvm.quietTimers(v));
    assertThat(args).as("the launcher's arguments for JDK %s", version).contains(AgentJvm.OPTIONS.get(0));
    assertThat(args.subList(0, args.indexOf(AgentJvm.OPTIONS.get(0)))).containsExactlyElementsOf(expected);
  }

  @Test
  void theLauncherTrimsWithTheSameOptionsForTheSameVersions() throws Exception {
    String script = Files.readString(LAUNCHER);
    assertThat(script).contains("extra+=(" + String.join(" ", AgentJvm.NATIVE_HEAP_TRIM) + ")")
        .contains("[ \"$major\" = 17 ] && [ \"$update\" -ge 9 ]")
        .contains("[ \"$major\" = 21 ] && [ \"$update\" -ge 1 ]")
        .contains("[ \"$major\" -ge 22 ]");
    assertThat(AgentJvm.options()).containsAll(AgentJvm.OPTIONS);
  }
}
