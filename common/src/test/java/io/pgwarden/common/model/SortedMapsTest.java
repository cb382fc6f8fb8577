package io.pgwarden.common.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class SortedMapsTest {
  @Test
  void copiesAnyOtherMapIntoAReadOnlySortedOne() {
    Map<String, String> given = new HashMap<>(Map.of("work_mem", "4MB", "max_connections", "100"));
    Map<String, String> sorted = SortedMaps.of(given);

    given.put("shared_buffers", "1GB");
    assertThat(sorted).containsExactly(Map.entry("max_connections", "100"), Map.entry("work_mem", "4MB"));
    assertThatThrownBy(() -> sorted.put("a", "b")).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void handsOnWhatItMadeAsItIs() {
    Map<String, String> sorted = SortedMaps.of(Map.of("work_mem", "4MB"));
    assertThat(SortedMaps.of(sorted)).isSameAs(sorted);
  }

  @Test
  void aViewInAnotherOrderIsCopied() {
    TreeMap<String, String> reversed = new TreeMap<>(Comparator.reverseOrder());
    reversed.putAll(Map.of("a", "1", "b", "2"));
    Map<String, String> sorted = SortedMaps.of(Collections.unmodifiableSortedMap(reversed));
    assertThat(sorted).containsExactly(Map.entry("a", "1"), Map.entry("b", "2"));
  }

  @Test
  void theConfigsParametersPassThroughTheProbeStateAsTheSameMap() {
    DynamicConfig config = new DynamicConfig(null, null, null, null, null, null, null, Map.of("work_mem", "4MB"));
    LocalPgState probed = LocalPgState.unknown("x", false)
        .withApplied(config.parameters(), Set.of(), Set.of("127.0.0.1"), Map.of());
    // The decision's check that they are in effect is then an identity, every tick.
    assertThat(probed.appliedParameters()).isSameAs(config.parameters());
    assertThat(probed.withSyncConfirmed(Set.of()).appliedParameters()).isSameAs(config.parameters());
  }
}
