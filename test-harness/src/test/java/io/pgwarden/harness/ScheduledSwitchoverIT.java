package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.common.json.Json;
import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.HistoryEntry;
import io.pgwarden.common.model.Switchover;
import io.pgwarden.harness.cluster.TestCluster;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code pgwarden switchover --at TIME} on a real cluster: pending and visible until its time, carried
 * out at it; a cancelled one never fires.
 */
class ScheduledSwitchoverIT {
  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(2);

  @Test
  void aScheduledSwitchoverFiresAtItsTimeAndACancelledOneNever() throws Exception {
    TestCluster c = CLUSTER.get();
    String from = c.awaitHealthy();
    String to = c.otherThan(from);
    int historyBefore = c.viewNow().history().size();

    Instant at = Instant.now().plusSeconds(25).truncatedTo(ChronoUnit.SECONDS);
    Cli.Run r = Cli.run(c, "switchover", "--to", to, "--at", at.toString(), "--force");
    assertThat(r.rc()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("at " + at);

    // Pending and visible before its time: in etcd, in `list` and in `list --json`.
    assertThat(c.viewNow().switchover()).isEqualTo(new Switchover(from, to, at.toString(), false, false));
    Cli.Run list = Cli.run(c, "list");
    assertThat(list.out()).contains("Switchover scheduled from " + from + " to " + to + " at " + at);
    JsonNode json = Json.LENIENT.readTree(Cli.run(c, "list", "--json").out());
    assertThat(json.get("switchover").get("to").asText()).isEqualTo(to);
    assertThat(Instant.now()).as("still before the scheduled time").isBefore(at);
    assertThat(c.leader()).hasValue(from);

    await(to + " leads after " + at).atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
        .until(() -> c.leader().map(to::equals).orElse(false));
    assertThat(Instant.now()).as("the leader changed no earlier than scheduled").isAfterOrEqualTo(at);
    await("the request is cleared and recorded").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
        .until(() -> c.viewNow().switchover() == null && c.viewNow().history().size() > historyBefore);
    HistoryEntry h = c.viewNow().history().get(c.viewNow().history().size() - 1);
    assertThat(h.kind()).isEqualTo("switchover");
    assertThat(h.from()).isEqualTo(from);
    assertThat(h.to()).isEqualTo(to);
    assertThat(Instant.parse(h.at())).as("recorded no earlier than scheduled").isAfterOrEqualTo(at);
    System.out.println("scheduled for " + at + ", recorded at " + h.at());

    // A second one, cancelled before its time, never fires.
    c.awaitHealthy("healthy again", Duration.ofMinutes(2));
    int historyAfterFirst = c.viewNow().history().size();
    Instant at2 = Instant.now().plusSeconds(25).truncatedTo(ChronoUnit.SECONDS);
    Cli.Run second = Cli.run(c, "switchover", "--to", from, "--at", at2.toString(), "--force");
    assertThat(second.rc()).as(second.out() + second.err()).isZero();
    assertThat(c.viewNow().switchover()).isNotNull();
    Cli.Run cancel = Cli.run(c, "switchover", "--cancel");
    assertThat(cancel.rc()).as(cancel.out() + cancel.err()).isZero();
    assertThat(c.viewNow().switchover()).isNull();
    assertThat(Cli.run(c, "list").out()).doesNotContain("Switchover");
    assertThat(Instant.now()).as("cancelled before its time").isBefore(at2);

    // Through its time and several loops past it, the leader stays (a read etcd did not answer proves nothing
    // either way), and the loops did run meanwhile.
    long ticksAtCancel = c.loopTicks(to);
    Duration throughIt = Duration.between(Instant.now(), at2.plusSeconds(10));
    await("the cancelled switchover never fires").during(throughIt).atMost(throughIt.plusSeconds(60))
        .pollInterval(Duration.ofSeconds(1)).until(() -> {
          ClusterView v = c.view();
          return v == null || (v.hasLeader() && v.leader().holder().equals(to));
        });
    assertThat(c.loopTicks(to)).as("loops of " + to + " since the cancel").isGreaterThanOrEqualTo(ticksAtCancel + 5);
    assertThat(c.leader()).hasValue(to);
    assertThat(c.viewNow().history()).hasSize(historyAfterFirst);
  }
}
