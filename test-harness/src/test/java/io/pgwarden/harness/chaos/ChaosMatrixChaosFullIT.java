package io.pgwarden.harness.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.harness.scenario.ChaosMatrix;
import io.pgwarden.harness.scenario.ScenarioResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The heavy matrix (only with -Pchaos-full): seed-sized workload, synchronous and asynchronous mode,
 * five power-off runs for a median. Asynchronous rows may lose writes: they are counted and printed,
 * not asserted. Arguments can be narrowed with -Dchaos.args="--ci --runs 5 --modes on --only power off the primary".
 */
@Tag("chaos")
class ChaosMatrixChaosFullIT {
  @Test
  void theFullMatrixKeepsEverySynchronousScenarioSafe() throws IOException {
    String args = System.getProperty("chaos.args", "");
    ChaosMatrix.Outcome out = ChaosMatrix.run(ChaosMatrix.Options.parse(split(args)));
    System.out.println(out.text());
    Files.createDirectories(Path.of("target"));
    Files.writeString(Path.of("target", "chaos-matrix.md"), out.text());
    assertThat(out.rows().stream().filter(r -> r.mode().startsWith("on")).filter(r -> !r.passed())
        .map(ScenarioResult::summary)).as("synchronous-mode scenarios that broke an invariant").isEmpty();
    assertThat(out.powerOffRuns().stream().filter(r -> r.mode().startsWith("on")).filter(r -> !r.passed())
        .map(ScenarioResult::summary)).as("power-off runs that broke an invariant").isEmpty();
  }

  /** "--ci --only power off the primary" -> [--ci, --only, power off the primary]: values may hold spaces. */
  static String[] split(String args) {
    java.util.List<String> out = new java.util.ArrayList<>();
    for (String part : args.trim().split("\\s+(?=--)")) {
      if (part.isBlank()) {
        continue;
      }
      int sp = part.indexOf(' ');
      out.add(sp < 0 ? part : part.substring(0, sp));
      if (sp >= 0) {
        out.add(part.substring(sp + 1).trim());
      }
    }
    return out.toArray(new String[0]);
  }
}
