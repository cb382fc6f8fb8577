package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Role;
import io.pgwarden.harness.bench.Writer;
import io.pgwarden.harness.cluster.TestCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Planned switchover under a continuous write load: nothing acknowledged is lost, no rewind, no clone. */
class SwitchoverIT {
  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(3);
  /** What a standby's server logs when the primary it connects to has no slot for it. */
  private static final String MISSING_SLOT = "could not start WAL streaming: ERROR:  replication slot";

  @Test
  void switchoversUnderWriteLoadLoseNothingAndTheOldPrimaryFollowsWithoutRewind() throws Exception {
    TestCluster c = CLUSTER.get();
    c.awaitHealthy();
    List<Long> gaps = new ArrayList<>();
    Writer w = new Writer(c, 20);
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> w.acks().size() >= 20);
      for (int i = 0; i < 5; i++) {
        String from = c.awaitHealthy("healthy before switchover " + i, Duration.ofMinutes(2));
        String to = c.viewNow().topology().syncStandbys().get(0);
        int rewindsBefore = c.agentLogCount(from, "rewinding from");
        int missingSlotsBefore = c.serverLogCount(MISSING_SLOT);
        long start = System.nanoTime();
        Cli.Run r = Cli.run(c, "switchover", "--to", to, "--force");
        assertThat(r.rc()).as(r.out() + r.err()).isZero();
        await(to + " leads").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
            .until(() -> c.leader().map(to::equals).orElse(false));
        await("writes resume on " + to).atMost(Duration.ofSeconds(60)).until(() -> c.isWritable(to));
        long resumed = System.nanoTime();
        await("the writer acknowledges again").atMost(Duration.ofSeconds(60)).until(() -> w.ackedAfter(resumed));
        MemberStatus np = c.member(to).orElseThrow();
        await(from + " follows " + to).atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
            .until(() -> c.member(from).map(m -> m.role() == Role.REPLICA && m.streaming()
                && np.connUrl().equals(m.upstream())).orElse(false));
        assertThat(c.agentLogCount(from, "rewinding from")).as("no pg_rewind after a clean switchover")
            .isEqualTo(rewindsBefore);
        assertThat(c.movedAsideDataDirs(from)).as("no base backup").isEmpty();
        assertThat(c.serverLogCount(MISSING_SLOT))
            .as("the new primary made its standbys' slots before they learnt of it: no first connection failed")
            .isEqualTo(missingSlotsBefore);
        await(from + " drops the slots it kept as primary").atMost(Duration.ofMinutes(1))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> c.tryQuery(from, "SELECT count(*) FROM pg_replication_slots"), q -> q.equals(Optional.of(List.of("0"))));
        assertThat(c.viewNow().history()).last().satisfies(h -> {
          assertThat(h.kind()).isEqualTo("switchover");
          assertThat(h.from()).isEqualTo(from);
          assertThat(h.to()).isEqualTo(to);
        });
        assertThat(c.viewNow().switchover()).as("the request is cleared").isNull();
        gaps.add(w.maxGapMillis(start, System.nanoTime()));
      }
    } finally {
      w.close();
    }
    System.out.println("switchover write gaps (ms): " + gaps + ", median " + gaps.stream().sorted().toList().get(2));
    assertThat(gaps).allSatisfy(g -> assertThat(g).isPositive());
    String primary = c.leader().orElseThrow();
    List<Writer.Ack> acks = w.acks();
    String ids = acks.stream().map(a -> Long.toString(a.id())).collect(Collectors.joining(","));
    List<String> present = c.queryColumn(primary, "SELECT count(*) FROM bench_writes WHERE id IN (" + ids + ")");
    assertThat(Long.parseLong(present.get(0))).as("acknowledged writes on the primary").isEqualTo(acks.size());
  }

  @Test
  void aForcedFailoverToTheSynchronousStandbyPromotesItAndIsRecorded() throws Exception {
    TestCluster c = CLUSTER.get();
    String from = c.awaitHealthy("healthy", Duration.ofMinutes(2));
    String to = c.viewNow().topology().syncStandbys().get(0);
    Cli.Run r = Cli.run(c, "failover", "--to", to, "--force");
    assertThat(r.rc()).as(r.out() + r.err()).isZero();
    await(to + " leads").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> c.leader().map(to::equals).orElse(false) && c.isWritable(to));
    await("history records it").atMost(Duration.ofSeconds(30))
        .until(() -> c.viewNow().history().get(c.viewNow().history().size() - 1).to().equals(to));
    assertThat(c.viewNow().history()).last().satisfies(h -> {
      assertThat(h.kind()).isEqualTo("failover");
      assertThat(h.from()).isEqualTo(from);
      assertThat(h.reason()).contains("forced by operator");
    });
    c.awaitHealthy(from + " follows", Duration.ofMinutes(2));
    assertThat(c.viewNow().switchover()).isNull();
  }
}
