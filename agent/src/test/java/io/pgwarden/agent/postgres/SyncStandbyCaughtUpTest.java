package io.pgwarden.agent.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.common.model.Lsn;
import org.junit.jupiter.api.Test;

/**
 * Which synchronous standbys count as holding every acknowledged commit: those that flushed up to the
 * primary's position when PostgreSQL started waiting for them, not merely "sync" and "streaming".
 */
class SyncStandbyCaughtUpTest {
  private static final Lsn FROM = Lsn.parse("0/5000000");

  @Test
  void aStandbyThatFlushedUpToThePointCountsOneBehindDoesNot() {
    assertThat(PostgresNode.caughtUp("n2 0/5000000,n3 0/4FFFFFF,n4 1/0", FROM)).containsExactlyInAnyOrder("n2", "n4");
  }

  @Test
  void noneWithoutRowsOrWithoutAKnownStartingPoint() {
    assertThat(PostgresNode.caughtUp(null, FROM)).isEmpty();
    assertThat(PostgresNode.caughtUp("n2 0/5000000", null)).isEmpty();
  }
}
