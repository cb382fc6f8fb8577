package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.common.model.Role;
import io.pgwarden.harness.cluster.TestCluster;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The seed's setup: two nodes, failing over from one to the other and back again. */
class TwoNodeIT {
  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(2);

  @Test
  void twoNodesFailOverFromOneToTheOtherAndBack() throws Exception {
    TestCluster c = CLUSTER.get();
    String a = c.awaitHealthy();
    String b = c.otherThan(a);
    c.executeOnPrimary("CREATE TABLE guestbook (id int PRIMARY KEY)");
    c.executeOnPrimary("INSERT INTO guestbook VALUES (1)");
    await(b + " has row 1").atMost(Duration.ofSeconds(60))
        .until(() -> c.tryQuery(b, "SELECT count(*) FROM guestbook").orElse(List.of()), r -> r.equals(List.of("1")));

    failOver(c, a, b, 2);
    failOver(c, b, a, 3);

    assertThat(c.leader()).contains(a);
    assertThat(c.viewNow().topology().term()).isEqualTo(3);
    assertThat(c.tryQuery(a, "SELECT count(*) FROM guestbook").orElseThrow()).containsExactly("3");
  }

  /** Powers off {@code from}, expects {@code to} to take over and {@code from} to rejoin behind it. */
  private static void failOver(TestCluster c, String from, String to, int row) throws Exception {
    // In synchronous mode (the default) only a recorded synchronous standby may take over: wait until
    // the rejoined node is one, as an operator would before pulling the next plug.
    await("healthy with " + to + " as synchronous standby").atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500)).until(c::healthy);
    assertThat(c.viewNow().topology().syncStandbys()).containsExactly(to);
    c.powerOff(from);
    await(to + " takes over").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
        .until(() -> c.leader().map(to::equals).orElse(false) && c.isWritable(to));
    await("writes through the multi-host URL").atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> {
          c.executeOnPrimary("INSERT INTO guestbook VALUES (" + row + ")");
          return true;
        });
    c.startAgent(from);
    await(from + " rejoins as a streaming replica").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
        .until(() -> c.member(from).map(m -> m.role() == Role.REPLICA && m.streaming()).orElse(false));
    await(from + " has row " + row).atMost(Duration.ofSeconds(60))
        .until(() -> c.tryQuery(from, "SELECT count(*) FROM guestbook").orElse(List.of()),
            r -> r.equals(List.of(Integer.toString(row))));
  }
}
