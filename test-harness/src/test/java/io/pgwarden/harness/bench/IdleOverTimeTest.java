package io.pgwarden.harness.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IdleOverTimeTest {
  private static SideBySide.Idle idle(List<Double> cpuMs, double rssMax) {
    return new SideBySide.Idle("pgwarden", "s", 60, List.of(rssMax, 70.0, 71.0), List.of(0.1, 0.1, 0.1), rssMax, 0.1,
        1, 1, 1, Map.of(), cpuMs, List.of());
  }

  @Test
  void theLeadersCpuComesFirstWhereverItIsInTheNodeOrder() {
    assertThat(IdleOverTimeBench.cell(new IdleOverTimeBench.Cell(idle(List.of(90.0, 150.0, 95.0), 79.5), 1)))
        .isEqualTo("150.0; 90.0, 95.0 · 79.5");
  }

  @Test
  void aWindowWithoutOneLeaderThroughoutSaysSo() {
    assertThat(IdleOverTimeBench.cell(new IdleOverTimeBench.Cell(idle(List.of(90.0, 150.0, 95.0), 79.5), -1)))
        .isEqualTo("?; 90.0, 150.0, 95.0 · 79.5");
  }
}
