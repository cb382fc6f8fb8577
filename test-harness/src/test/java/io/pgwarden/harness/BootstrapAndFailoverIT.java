package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Role;
import io.pgwarden.harness.cluster.TestCluster;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The life of a three-node cluster: bootstrap, power-off failover, rejoin by pg_rewind. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BootstrapAndFailoverIT {
  private static final Duration TTL = Duration.ofSeconds(12);

  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(3);

  private static String firstPrimary;
  private static String newPrimary;

  @Test
  @Order(1)
  void threeNodesBootstrapIntoOnePrimaryAndTwoStreamingReplicas() throws Exception {
    TestCluster c = CLUSTER.get();
    c.awaitHealthy("one primary and two streaming replicas", Duration.ofMinutes(3));
    firstPrimary = c.leader().orElseThrow();
    long primaries = c.nodes().stream().filter(n -> c.member(n).map(m -> m.role() == Role.PRIMARY).orElse(false)).count();
    assertThat(primaries).isEqualTo(1);
    assertThat(c.viewNow().topology().term()).isEqualTo(1);
    assertThat(c.viewNow().topology().primary()).isEqualTo(firstPrimary);

    c.execute(firstPrimary, "CREATE TABLE guestbook (id int PRIMARY KEY, note text)");
    c.execute(firstPrimary, "INSERT INTO guestbook VALUES (1, 'written on the primary')");
    for (String n : c.nodes()) {
      await(n + " has the row").atMost(Duration.ofSeconds(60))
          .until(() -> c.tryQuery(n, "SELECT note FROM guestbook WHERE id = 1").orElse(List.of()),
              rows -> rows.equals(List.of("written on the primary")));
    }
    // Replicas refuse writes: only the lock holder is writable.
    for (String n : c.nodes()) {
      assertThat(c.isWritable(n)).as(n + " writable").isEqualTo(n.equals(firstPrimary));
    }
  }

  @Test
  @Order(2)
  void poweringOffThePrimaryElectsExactlyOneNewPrimaryThatTheOtherReplicaFollows() throws Exception {
    TestCluster c = CLUSTER.get();
    Instant killedAt = Instant.now();
    c.powerOff(firstPrimary);

    AtomicReference<String> leader = new AtomicReference<>();
    await("a new leader").atMost(TTL.multipliedBy(2).plusSeconds(30)).pollInterval(Duration.ofMillis(500))
        .until(() -> {
          Optional<String> l = c.leader();
          l.ifPresent(leader::set);
          return l.isPresent() && !l.get().equals(firstPrimary);
        });
    newPrimary = leader.get();
    await("writes through the multi-host connection string").atMost(Duration.ofSeconds(60))
        .ignoreExceptions().until(() -> {
          c.executeOnPrimary("INSERT INTO guestbook VALUES (2, 'after failover')");
          return true;
        });
    System.out.println("failover: power-off to first successful write took "
        + Duration.between(killedAt, Instant.now()).toMillis() + " ms");

    String other = c.nodes().stream().filter(n -> !n.equals(firstPrimary) && !n.equals(newPrimary)).findFirst().orElseThrow();
    MemberStatus np = c.member(newPrimary).orElseThrow();
    await(other + " streams from " + newPrimary).atMost(Duration.ofSeconds(90))
        .until(() -> c.member(other).map(m -> m.streaming() && np.connUrl().equals(m.upstream())).orElse(false));
    await(other + " has the new row").atMost(Duration.ofSeconds(60))
        .until(() -> c.tryQuery(other, "SELECT count(*) FROM guestbook").orElse(List.of()), r -> r.equals(List.of("2")));
    assertThat(c.isWritable(other)).isFalse();
    assertThat(c.viewNow().topology().term()).isEqualTo(2);
    assertThat(c.viewNow().topology().primary()).isEqualTo(newPrimary);
    assertThat(c.viewNow().history()).anySatisfy(h -> {
      assertThat(h.kind()).isEqualTo("failover");
      assertThat(h.to()).isEqualTo(newPrimary);
      assertThat(h.timeline()).isEqualTo(2);
    });
    // The other replica repointed without a base backup.
    assertThat(c.movedAsideDataDirs(other)).isEmpty();
  }

  @Test
  @Order(3)
  void thePoweredOffPrimaryRejoinsAsAReplicaOnTheNewTimelineByRewind() throws Exception {
    TestCluster c = CLUSTER.get();
    c.startAgent(firstPrimary);
    MemberStatus np = c.member(newPrimary).orElseThrow();
    await(firstPrimary + " streams from " + newPrimary).atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
        .until(() -> c.member(firstPrimary)
            .map(m -> m.role() == Role.REPLICA && m.streaming() && np.connUrl().equals(m.upstream())
                && m.timeline() != null && m.timeline() >= 2)
            .orElse(false));
    await(firstPrimary + " has the row written after it died").atMost(Duration.ofSeconds(60))
        .until(() -> c.tryQuery(firstPrimary, "SELECT note FROM guestbook WHERE id = 2").orElse(List.of()),
            r -> r.equals(List.of("after failover")));
    assertThat(c.movedAsideDataDirs(firstPrimary)).as("no base backup was taken").isEmpty();
    assertThat(c.agentLog(firstPrimary)).contains("rewinding from " + newPrimary);
    assertThat(c.isWritable(firstPrimary)).isFalse();
    assertThat(c.leader()).contains(newPrimary);
  }
}
