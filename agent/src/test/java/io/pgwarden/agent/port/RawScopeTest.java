package io.pgwarden.agent.port;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** RawKv and RawScope have equals and hashCode by hand: every component must count. */
class RawScopeTest {
  private static final RawKv KV = new RawKv("/pgwarden/main/leader", "node1", 5, 4, 2, 7);

  @Test
  void everyComponentOfAKeyValueCounts() {
    RawKv same = new RawKv(new String("/pgwarden/main/leader"), new String("node1"), 5, 4, 2, 7);
    assertThat(KV).isEqualTo(same).hasSameHashCodeAs(same).isNotEqualTo(null);
    assertThat(List.of(
        new RawKv("/pgwarden/main/x", "node1", 5, 4, 2, 7),
        new RawKv("/pgwarden/main/leader", "node2", 5, 4, 2, 7),
        new RawKv("/pgwarden/main/leader", null, 5, 4, 2, 7),
        new RawKv("/pgwarden/main/leader", "node1", 6, 4, 2, 7),
        new RawKv("/pgwarden/main/leader", "node1", 5, 3, 2, 7),
        new RawKv("/pgwarden/main/leader", "node1", 5, 4, 1, 7),
        new RawKv("/pgwarden/main/leader", "node1", 5, 4, 2, 8)))
        .allSatisfy(other -> assertThat(other).isNotEqualTo(KV));
    // Six components, each changed once above: a seventh would need a line here.
    assertThat(RawKv.class.getRecordComponents()).hasSize(6);
  }

  @Test
  void scopesAreEqualByRevisionAndKeys() {
    RawScope s = new RawScope(9, List.of(KV));
    assertThat(s).isEqualTo(new RawScope(9, List.of(new RawKv("/pgwarden/main/leader", "node1", 5, 4, 2, 7))))
        .hasSameHashCodeAs(new RawScope(9, List.of(KV)));
    assertThat(s).isNotEqualTo(new RawScope(10, List.of(KV))).isNotEqualTo(new RawScope(9, List.of()))
        .isNotEqualTo(null);
    assertThat(RawScope.class.getRecordComponents()).hasSize(2);
  }
}
