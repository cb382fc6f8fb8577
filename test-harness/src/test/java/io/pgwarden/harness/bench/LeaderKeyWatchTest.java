package io.pgwarden.harness.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.agent.port.RawKv;
import java.util.List;
import org.junit.jupiter.api.Test;

class LeaderKeyWatchTest {
  private static final String KEY = "/service/bench/leader";

  private static RawKv kv(String key, String value, long lease) {
    return new RawKv(key, value, 10, 5, 2, lease);
  }

  @Test
  void theKeyIsLostWhenDeletedOrWrittenForAnotherHolderOrLease() {
    assertThat(LeaderKeyWatch.lost(KEY, "node1", 7, List.of(), List.of(KEY))).isTrue();
    assertThat(LeaderKeyWatch.lost(KEY, "node1", 7, List.of(kv(KEY, "node2", 8)), List.of())).isTrue();
    assertThat(LeaderKeyWatch.lost(KEY, "node1", 7, List.of(kv(KEY, "node1", 9)), List.of())).isTrue();
  }

  @Test
  void theHolderRewritingItOrOtherKeysChangingIsNotALoss() {
    assertThat(LeaderKeyWatch.lost(KEY, "node1", 7, List.of(kv(KEY, "node1\n", 7)), List.of())).isFalse();
    // A prefix watch on ".../leader" also sees keys that merely start with it.
    assertThat(LeaderKeyWatch.lost(KEY, "node1", 7, List.of(kv(KEY + "x", "node2", 8)), List.of(KEY + "x")))
        .isFalse();
    // Before the lease is known only the name counts.
    assertThat(LeaderKeyWatch.lost(KEY, "node1", 0, List.of(kv(KEY, "node1", 9)), List.of())).isFalse();
  }
}
