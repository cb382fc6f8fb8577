package io.pgwarden.harness.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class SideBySideTest {
  private static final long MS = 1_000_000;

  @Test
  void theGapIsSplitWhereTheRunnerSawTheKeyGo() {
    long kill = 5_000 * MS;
    SideBySide.KeyLife life = SideBySide.KeyLife.of(kill, OptionalLong.of(kill + 9_300 * MS),
        OptionalLong.of(kill + 9_300 * MS + 412 * MS));

    assertThat(life.keyGoneMs()).isEqualTo(9_300L);
    assertThat(life.afterKeyMs()).isEqualTo(412L);
  }

  @Test
  void aMissedWatchOrAChangeBeforeTheKillGivesNoKeyTimes() {
    long kill = 5_000 * MS;
    OptionalLong ack = OptionalLong.of(kill + 10_000 * MS);

    assertThat(SideBySide.KeyLife.of(kill, OptionalLong.empty(), ack)).isEqualTo(SideBySide.KeyLife.MISSED);
    assertThat(SideBySide.KeyLife.of(kill, OptionalLong.of(kill - MS), ack)).isEqualTo(SideBySide.KeyLife.MISSED);
  }

  @Test
  void noAckAfterTheKeyLeavesOnlyTheKeyTime() {
    SideBySide.KeyLife life = SideBySide.KeyLife.of(0, OptionalLong.of(8_000 * MS), OptionalLong.empty());

    assertThat(life.keyGoneMs()).isEqualTo(8_000L);
    assertThat(life.afterKeyMs()).isNull();
  }

  @Test
  void theKeyMediansAreOverTheRunsThatHaveThemAndSaySo() {
    assertThat(SideBySide.medianOfPresent(List.of(9_000L, 8_000L, 10_000L))).isEqualTo(9_000L);
    assertThat(SideBySide.medianCell(List.of(9_000L, 8_000L, 10_000L))).isEqualTo("9000");
    assertThat(SideBySide.medianCell(Arrays.asList(9_000L, null, 8_000L))).isEqualTo("8500 (2 of 3 runs)");
    assertThat(SideBySide.medianOfPresent(Arrays.asList(null, null))).isNull();
    assertThat(SideBySide.medianCell(Arrays.asList(null, null))).isEqualTo("-");
    assertThat(SideBySide.medianCell(List.of())).isEqualTo("-");
  }

  @Test
  void theFailoverTableKeepsItsColumnsAndAddsTheKeyMedians() {
    SideBySide.FailoverRun a = new SideBySide.FailoverRun(1, 9_500, 0, 600, "n1", "n2", 3_000, "pg_rewind", 9_200L,
        280L);
    SideBySide.FailoverRun b = new SideBySide.FailoverRun(2, 9_900, 0, 610, "n2", "n3", 3_200, "pg_rewind", null,
        null);
    SideBySide.Failover f = new SideBySide.Failover("pgwarden", "defaults", List.of(a, b), 9_500, 9_700, 9_900,
        9_200L, 280L, 0, 3_100, 3_200, "pg_rewind x2", null);
    String md = SideBySide.markdown(new SideBySide.Report(Map.of(), "mvn", List.of(), List.of(), List.of(),
        List.of(f)));

    assertThat(md).contains("| tool | settings | runs | gap min ms | gap median ms | gap max ms | key gone after kill "
        + "median ms | after the key median ms | acked rows lost | rejoin median ms | rejoin max ms | rejoined by "
        + "| error |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    assertThat(md).contains("| pgwarden | defaults | 2 | 9500 | 9700 | 9900 | 9200 (1 of 2 runs) | 280 (1 of 2 runs) "
        + "| 0 | 3100 | 3200 | pg_rewind x2 |  |\n");
    assertThat(b.toString()).endsWith("keyGoneMs=-, afterKeyMs=-]");
  }

  @Test
  void theSwitchoverTableSaysHowLongTheNewPrimaryRanWithoutASynchronousStandby() {
    SideBySide.Switchover sync = new SideBySide.Switchover("pgwarden", "sync on", List.of(250L, 260L, 300L), 250, 260,
        300, 0, 500, null, List.of(55L, 60L, 1_180L));
    SideBySide.Switchover async = new SideBySide.Switchover("Patroni", "sync off", List.of(1_300L), 1_300, 1_300,
        1_300, 0, 400, null, List.of());
    String md = SideBySide.markdown(new SideBySide.Report(Map.of(), "mvn", List.of(), List.of(),
        List.of(sync, async), List.of()));

    assertThat(md).contains("| acked rows lost (of) | synchronous standby after the new leader, median / max ms | error |");
    assertThat(md).contains("| pgwarden | sync on | 3 | 250 | 260 | 300 | 0 (500) | 60 / 1180 |  |\n");
    assertThat(md).contains("| Patroni | sync off | 1 | 1300 | 1300 | 1300 | 0 (400) | asynchronous |  |\n");
  }
}
