package io.pgwarden.agent.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

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
    assertThat(script).contains("${PGWARDEN_JAVA_OPTS:-$default_opts} -XX:+ExitOnOutOfMemoryError $sharing -jar");
    assertThat(AgentJvm.OPTIONS).contains("-XX:+ExitOnOutOfMemoryError");
  }
}
