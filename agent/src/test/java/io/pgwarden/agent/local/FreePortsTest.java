package io.pgwarden.agent.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FreePortsTest {
  @Test
  void separateCallsNeverHandOutTheSamePort() {
    List<Integer> all = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      all.addAll(FreePorts.take(3));
    }
    assertThat(all).hasSize(600).doesNotHaveDuplicates().allSatisfy(p -> assertThat(p).isBetween(1, 65535));
  }

  @Test
  void portsComeFromOutsideTheRangeOutgoingConnectionsTakeTheirsFrom() {
    int[] ephemeral = FreePorts.ephemeralRange();
    assertThat(FreePorts.take(50)).allSatisfy(p -> assertThat(p).isGreaterThanOrEqualTo(FreePorts.LOWEST)
        .satisfiesAnyOf(q -> assertThat(q).isLessThan(ephemeral[0]), q -> assertThat(q).isGreaterThan(ephemeral[1])));
  }

  @Test
  void theRoomierSideOfTheEphemeralRangeIsChosen() {
    assertThat(FreePorts.candidates(new int[] {32768, 60999})).containsExactly(10_000, 32767);
    assertThat(FreePorts.candidates(new int[] {10500, 40000})).containsExactly(40001, 65535);
    assertThat(FreePorts.candidates(new int[] {10200, 65000})).containsExactly(10_000, 65535);
  }
}
