package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.common.json.Json;
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
    await("healthy").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).until(c::healthy);
    String from = c.leader().orElseThrow();
    String to = c.otherThan(from);
    int historyBefore = c.view().history().size();

    Instant at = Instant.now().plusSeconds(25).truncatedTo(ChronoUnit.SECONDS);
    Cli.Run r = Cli.run(c, "switchover", "--to", to, "--at", at.toString(), "--force");
    assertThat(r.rc()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("at " + at);

    // Pending and visible before its time: in etcd, in `list` and in `list --json`.
    assertThat(c.view().switchover()).isEqualTo(new Switchover(from, to, at.toString(), false, false));
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
        .until(() -> c.view().switchover() == null && c.view().history().size() > historyBefore);
    HistoryEntry h = c.view().history().get(c.view().history().size() - 1);
    assertThat(h.kind()).isEqualTo("switchover");
    assertThat(h.from()).isEqualTo(from);
    assertThat(h.to()).isEqualTo(to);
    assertThat(Instant.parse(h.at())).as("recorded no earlier than scheduled").isAfterOrEqualTo(at);
    System.out.println("scheduled for " + at + ", recorded at " + h.at());

    // A second one, cancelled before its time, never fires.
    await("healthy again").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(c::healthy);
    int historyAfterFirst = c.view().history().size();
    Instant at2 = Instant.now().plusSeconds(25).truncatedTo(ChronoUnit.SECONDS);
    Cli.Run second = Cli.run(c, "switchover", "--to", from, "--at", at2.toString(), "--force");
    assertThat(second.rc()).as(second.out() + second.err()).isZero();
    assertThat(c.view().switchover()).isNotNull();
    Cli.Run cancel = Cli.run(c, "switchover", "--cancel");
    assertThat(cancel.rc()).as(cancel.out() + cancel.err()).isZero();
    assertThat(c.view().switchover()).isNull();
    assertThat(Cli.run(c, "list").out()).doesNotContain("Switchover");
    assertThat(Instant.now()).as("cancelled before its time").isBefore(at2);

    // Past its time by several loops: nothing happened.
    Instant wellAfter = at2.plusSeconds(10);
    await("past the cancelled time").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
        .until(() -> Instant.now().isAfter(wellAfter));
    assertThat(c.leader()).hasValue(to);
    assertThat(c.view().history()).hasSize(historyAfterFirst);
  }
}
