package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.harness.cluster.TestCluster;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Safety invariant 2: a primary that cannot renew its lease stops writes before the lease can expire. */
class EtcdOutageIT {
  private static final Duration TTL = Duration.ofSeconds(12);

  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(3);

  @Test
  void withEtcdStoppedThePrimaryStopsAcceptingWritesBeforeTtlAndTheClusterRecoversWithoutLoss() throws Exception {
    TestCluster c = CLUSTER.get();
    String primary = c.awaitHealthy();
    c.execute(primary, "CREATE TABLE acked (id int PRIMARY KEY)");
    for (int i = 1; i <= 100; i++) {
      c.execute(primary, "INSERT INTO acked VALUES (" + i + ")");
    }

    long stoppedAt = System.nanoTime();
    c.stopEtcd();
    await("the primary stops accepting writes").atMost(TTL.plusSeconds(30)).pollInterval(Duration.ofMillis(200))
        .until(() -> !c.isWritable(primary));
    Duration fenced = Duration.ofNanos(System.nanoTime() - stoppedAt);
    System.out.println("etcd outage: primary stopped accepting writes " + fenced.toMillis() + " ms after etcd stopped");
    assertThat(fenced).as("fenced before ttl").isLessThan(TTL);
    for (String n : c.nodes()) {
      assertThat(c.isWritable(n)).as(n + " writable while etcd is down").isFalse();
    }

    c.startEtcd();
    String after = c.awaitHealthy("one primary again", Duration.ofMinutes(3));
    await("every acknowledged row is on the primary").atMost(Duration.ofSeconds(30))
        .until(() -> c.tryQuery(after, "SELECT count(*) FROM acked").orElse(List.of()), r -> r.equals(List.of("100")));
    long writable = c.nodes().stream().filter(c::isWritable).count();
    assertThat(writable).isEqualTo(1);
  }
}
