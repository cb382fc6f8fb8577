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
}
