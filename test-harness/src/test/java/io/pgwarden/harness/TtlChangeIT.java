package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.LeaseOption;
import io.pgwarden.agent.local.LocalCluster;
import io.pgwarden.common.config.Keys;
import io.pgwarden.harness.cluster.TestCluster;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An etcd lease keeps the ttl it was granted with, so `set-config ttl=...` on a running cluster takes effect
 * through new leases: every agent moves its keys — the leader its leader key too — to a lease of the new
 * ttl, without a change of leader.
 */
class TtlChangeIT {
  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(2);

  @Test
  void aNewTtlReachesTheLeasesOfEveryKeyWithoutAChangeOfLeader() throws Exception {
    TestCluster c = CLUSTER.get();
    String primary = c.awaitHealthy();
    LocalCluster.State s = c.local().state();
    Keys keys = c.keys();
    List<String> watched = new ArrayList<>(List.of(keys.leader()));
    c.nodes().forEach(n -> watched.add(keys.member(n)));
    try (Client etcd = Client.builder().endpoints(s.etcdEndpoints().toArray(new String[0])).build()) {
      assertThat(grantedTtls(etcd, watched)).as("the test timing's ttl").containsOnly(12L);

      Cli.Run set = Cli.run(c, "set-config", "ttl=16");
      assertThat(set.rc()).as(set.out() + set.err()).isZero();
      await("every key on a lease of 16 s").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
          .until(() -> grantedTtls(etcd, watched), ttls -> ttls.stream().allMatch(t -> t == 16L));

      assertThat(c.viewNow().leader().holder()).isEqualTo(primary);
      assertThat(c.agentLog(primary)).contains("moving my keys from etcd lease").contains("rebound the leader key");
      assertThat(c.agentLog(primary)).doesNotContain("demoting");
      assertThat(c.healthy()).isTrue();
    } finally {
      assertThat(Cli.run(c, "set-config", "ttl=12").rc()).isZero();
    }
  }

  /** The ttl each key's lease was granted with; -1 for a key bound to no lease, 0 for a missing key. */
  private static List<Long> grantedTtls(Client etcd, List<String> keys) throws Exception {
    List<Long> out = new ArrayList<>();
    for (String k : keys) {
      List<KeyValue> kvs = etcd.getKVClient().get(ByteSequence.from(k, StandardCharsets.UTF_8)).get(30, TimeUnit.SECONDS)
          .getKvs();
      if (kvs.isEmpty()) {
        out.add(0L);
      } else if (kvs.get(0).getLease() == 0) {
        out.add(-1L);
      } else {
        out.add(etcd.getLeaseClient().timeToLive(kvs.get(0).getLease(), LeaseOption.DEFAULT).get(30, TimeUnit.SECONDS)
            .getGrantedTTL());
      }
    }
    return out;
  }
}
