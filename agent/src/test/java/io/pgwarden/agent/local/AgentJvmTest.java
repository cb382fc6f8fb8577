package io.pgwarden.agent.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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
      "21.0.1, true", "22, true", "25.0.1, true"})
  void nativeHeapTrimOnlyWhereTheJvmHasTheOption(String version, boolean expected) {
    assertThat(AgentJvm.nativeHeapTrim(Runtime.Version.parse(version)))
        .isEqualTo(expected ? AgentJvm.NATIVE_HEAP_TRIM : List.of());
  }

  @ParameterizedTest
  @CsvSource({"16.0.2, false", "17, true", "17.0.15, true", "21.0.5, true", "25.0.3, true", "26, false"})
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
