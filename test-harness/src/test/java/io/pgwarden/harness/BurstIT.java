package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.agent.etcd.JetcdClusterStore;
import io.pgwarden.agent.local.LocalCluster;
import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.common.config.EtcdConfig;
import io.pgwarden.common.config.Keys;
import io.pgwarden.common.json.Json;
import io.pgwarden.common.model.LeaderRecord;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Role;
import io.pgwarden.common.model.Tags;
import io.pgwarden.harness.cluster.TestCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 6's burst: ~3 MB under the cluster's etcd scope, read by every agent every loop, while
 * {@code /cluster} (which then serialises ~1.9 MB of member statuses) is polled hard from several threads.
 * The agents run with the JVM options operators get (bin/pgwarden's, via {@code AgentJvm}): the small
 * idle heap must grow for the burst instead of failing with an OutOfMemoryError, the leader must keep
 * its lease, /cluster must keep answering valid JSON, and values that do not parse must not harm anyone.
 */
class BurstIT {
  // Few but large members. Written without a lease, they get no replication slot (only lease-bound
  // member keys do, see ForeignMemberKeyIT); the agents parse, list and serve them all the same.
  private static final int FAKE_MEMBERS = 6;
  private static final int FAKE_MEMBER_BYTES = 320_000;
  private static final int BAD_MEMBERS = 4;
  private static final int OTHER_KEYS = 4;
  private static final int VALUE_BYTES = 150_000;
  private static final int POLLERS = 4;

  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(2);

  @Test
  void aThreeMegabyteViewPolledHardLeavesTheLeaderAliveAndLeading() throws Exception {
    TestCluster c = CLUSTER.get();
    c.awaitHealthy();
    LeaderRecord before = c.viewNow().leader();
    String primary = before.holder();
    long term = c.viewNow().topology().term();
    LocalCluster.State s = c.local().state();
    Keys keys = c.keys();

    List<String> written = new ArrayList<>();
    try (ClusterStore store = JetcdClusterStore.connect(new EtcdConfig(s.etcdEndpoints(), null, null), null)) {
      String big = "x".repeat(VALUE_BYTES);
      String huge = "x".repeat(FAKE_MEMBER_BYTES);
      Duration timeout = Duration.ofSeconds(30);
      for (int i = 0; i < FAKE_MEMBERS; i++) {
        // Valid statuses that take no part in decisions (no failover, no sync, unknown role, stopped).
        String name = "burst-" + i;
        MemberStatus fake = new MemberStatus(name, Role.UNKNOWN, "stopped", null, null, null, false, null, null,
            null, null, new Tags(true, true, 0, true), huge, null);
        store.put(keys.membersPrefix() + name, Json.write(fake), 0, timeout);
        written.add(keys.membersPrefix() + name);
      }
      for (int i = 0; i < BAD_MEMBERS; i++) {
        store.put(keys.membersPrefix() + "burst-bad-" + i, "{\"name\": \"" + big, 0, timeout);
        written.add(keys.membersPrefix() + "burst-bad-" + i);
      }
      for (int i = 0; i < OTHER_KEYS; i++) {
        store.put(keys.prefix() + "burst-other/" + i, big, 0, timeout);
        written.add(keys.prefix() + "burst-other/" + i);
      }
      assertThat(store.readPrefix(keys.prefix(), timeout).kvs().stream().mapToInt(kv -> kv.value().length()).sum())
          .as("bytes under the scope").isGreaterThan(3_000_000);

      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger fullViews = new AtomicInteger();
      AtomicInteger answerBytes = new AtomicInteger();
      Queue<String> failures = new ConcurrentLinkedQueue<>();
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
      ExecutorService pollers = Executors.newFixedThreadPool(POLLERS);
      List<String> nodes = c.nodes();
      for (int t = 0; t < POLLERS; t++) {
        // Most pollers on the leader: it is the one that must keep renewing while it serves them.
        String node = t == 0 ? nodes.stream().filter(n -> !n.equals(primary)).findFirst().orElse(primary) : primary;
        URI uri = URI.create(c.local().node(node).apiUrl() + "/cluster");
        pollers.submit(() -> {
          while (!stop.get()) {
            try {
              HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).build(),
                  HttpResponse.BodyHandlers.ofString());
              JsonNode body = Json.LENIENT.readTree(r.body());
              if (r.statusCode() != 200 || !body.path("members").isArray()) {
                failures.add(node + ": HTTP " + r.statusCode() + " " + r.body().substring(0, Math.min(200, r.body().length())));
              } else if (body.path("members").size() >= FAKE_MEMBERS) {
                fullViews.incrementAndGet();
                answerBytes.accumulateAndGet(r.body().length(), Math::max);
              }
            } catch (Exception e) {
              failures.add(node + ": " + e);
            }
          }
        });
      }
      try {
        await("/cluster shows the 3 MB view").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
            .until(() -> fullViews.get() >= POLLERS || !failures.isEmpty());
        // Many loops (loop_wait 2 s) of reading the whole scope while the pollers keep going.
        await("agents alive and /cluster answering through the burst").during(Duration.ofSeconds(40))
            .atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
            .failFast(() -> {
              assertThat(failures).as("/cluster answers that failed").isEmpty();
              assertThat(nodes).as("agents alive").allMatch(c.local()::agentAlive);
            })
            .until(() -> failures.isEmpty() && nodes.stream().allMatch(c.local()::agentAlive));
      } finally {
        stop.set(true);
        pollers.shutdown();
        pollers.awaitTermination(2, TimeUnit.MINUTES);
      }
      System.out.printf("burst: %d /cluster answers carried the whole view (up to %d bytes each)%n", fullViews.get(),
          answerBytes.get());
      assertThat(failures).as("every /cluster answer was valid JSON with the members").isEmpty();
      assertThat(fullViews.get()).as("answers that carried the whole view").isGreaterThanOrEqualTo(20);
      for (String n : nodes) {
        assertThat(c.local().agentAlive(n)).as(n + "'s agent is alive").isTrue();
        assertThat(c.agentLog(n)).as(n + "'s log").doesNotContain("OutOfMemoryError");
      }
      LeaderRecord after = c.viewNow().leader();
      assertThat(after.holder()).as("the leader").isEqualTo(primary);
      assertThat(after.leaseId()).as("the leader key's lease (renewed, never lost)").isEqualTo(before.leaseId());
      assertThat(c.viewNow().topology().term()).as("no failover").isEqualTo(term);
      // Bound to no lease, they are no live agent's: reported, and no reason to hold back a failover.
      assertThat(c.agentLog(primary)).as("the unparsable values are reported, naming the key")
          .contains("ignoring unparsable member key bound to no lease (so written by no live agent; it blocks no"
              + " promotion; delete it if it is stale): " + keys.membersPrefix() + "burst-bad-");

      for (String k : written) {
        store.delete(k, timeout);
      }
    }
    c.awaitHealthy("healthy after the burst", Duration.ofMinutes(2));
    assertThat(c.viewNow().members().keySet()).noneMatch(n -> n.startsWith("burst-"));
  }
}
