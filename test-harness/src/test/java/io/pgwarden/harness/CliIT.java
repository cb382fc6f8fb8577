package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.agent.Main;
import io.pgwarden.agent.api.BasicAuth;
import io.pgwarden.agent.etcd.JetcdClusterStore;
import io.pgwarden.agent.local.LocalCluster;
import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.agent.port.RawKv;
import io.pgwarden.common.config.EtcdConfig;
import io.pgwarden.common.config.Keys;
import io.pgwarden.common.json.Json;
import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.model.Switchover;
import io.pgwarden.harness.cluster.TestCluster;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every operator verb that can be checked without the agents carrying it out, against a real local cluster. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliIT {
  @RegisterExtension static final ClusterExtension CLUSTER = new ClusterExtension(3);

  private static ClusterStore store;
  private static Keys keys;
  private static String leader;
  private static String replica;

  /** One in-process run of the CLI. */
  record Run(int rc, String out, String err) {}

  static Run cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    List<String> argv = new ArrayList<>(List.of(args));
    // Every verb but the bad-argument cases targets the test cluster's folder.
    if (args.length > 0 && !args[0].startsWith("-") && !argv.contains("--no-target")) {
      argv.add(1, "--dir");
      argv.add(2, CLUSTER.get().local().dir().toString());
    }
    argv.remove("--no-target");
    int rc = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), argv.toArray(String[]::new));
    return new Run(rc, out.toString(), err.toString());
  }

  @BeforeAll
  static void healthyCluster() {
    TestCluster c = CLUSTER.get();
    c.awaitHealthy("one primary and two streaming replicas", Duration.ofMinutes(3));
    LocalCluster.State s = c.local().state();
    store = JetcdClusterStore.connect(new EtcdConfig(s.etcdEndpoints(), null, null), null);
    keys = c.keys();
    leader = c.leader().orElseThrow();
    replica = c.otherThan(leader);
  }

  @AfterAll
  static void closeStore() {
    if (store != null) {
      store.close();
    }
  }

  private static RawKv config() {
    return store.get(keys.config(), Duration.ofSeconds(3));
  }

  @Test
  @Order(1)
  void listPrintsATableWithEveryMemberAndTheLeader() {
    Run r = cli("list");
    assertThat(r.rc()).as(r.err()).isZero();
    assertThat(r.out()).contains("Cluster: it").contains("| Member").contains("Lag in MB").doesNotContain("paused");
    for (String n : CLUSTER.get().nodes()) {
      assertThat(r.out()).contains("| " + n);
    }
    assertThat(r.out().lines().filter(l -> l.startsWith("| " + leader + " ")).findFirst().orElseThrow())
        .contains("Leader").contains("running");
    assertThat(r.out().lines().filter(l -> l.startsWith("| " + replica + " ")).findFirst().orElseThrow())
        .contains("Replica").contains("streaming");
    System.out.println("pgwarden list:\n" + r.out());
  }

  @Test
  @Order(2)
  void listJsonIsTheClusterAsJson() throws Exception {
    Run r = cli("list", "--json");
    assertThat(r.rc()).as(r.err()).isZero();
    JsonNode j = Json.LENIENT.readTree(r.out());
    assertThat(j.get("scope").asText()).isEqualTo("it");
    assertThat(j.get("leader").asText()).isEqualTo(leader);
    assertThat(j.get("paused").asBoolean()).isFalse();
    assertThat(j.get("members")).hasSize(3);
    List<String> roles = new ArrayList<>();
    j.get("members").forEach(m -> {
      roles.add(m.get("role").asText());
      assertThat(m.get("api_url").asText()).startsWith("http://127.0.0.1:");
    });
    assertThat(roles).containsExactlyInAnyOrder("primary", "replica", "replica");
  }

  @Test
  @Order(3)
  void topologyHistoryAndShowConfig() throws Exception {
    Run t = cli("topology");
    assertThat(t.rc()).as(t.err()).isZero();
    JsonNode topo = Json.LENIENT.readTree(t.out());
    assertThat(topo.get("primary").asText()).isEqualTo(leader);
    assertThat(topo.get("term").asLong()).isEqualTo(1);

    Run h = cli("history");
    assertThat(h.rc()).as(h.err()).isZero();
    assertThat(h.out()).startsWith("Term").contains("Kind").contains("From").contains("To");

    Run s = cli("show-config");
    assertThat(s.rc()).as(s.err()).isZero();
    assertThat(s.out()).contains("ttl: 12").contains("loop_wait: 2").contains("retry_timeout: 5").contains("pause: false");
  }

  @Test
  @Order(4)
  void setConfigAppliesAValidValue() {
    Run r = cli("set-config", "ttl=14", "parameters.work_mem=8MB");
    assertThat(r.rc()).as(r.err()).isZero();
    assertThat(r.out()).contains("-ttl: 12").contains("+ttl: 14").contains("work_mem");
    assertThat(cli("show-config").out()).contains("ttl: 14").contains("work_mem: \"8MB\"");
    DynamicConfig inEtcd = io.pgwarden.common.config.ConfigLoader.parseDynamic(config().value());
    assertThat(inEtcd.ttl()).isEqualTo(14);
    assertThat(inEtcd.loopWait()).isEqualTo(2);
  }

  @Test
  @Order(5)
  void setConfigRejectsInvalidValuesNamingTheFieldAndWritesNothing() {
    long before = config().modRevision();
    Run bad = cli("set-config", "ttl=3");
    assertThat(bad.rc()).isEqualTo(2);
    assertThat(bad.err()).contains("ttl").hasLineCount(1);
    Run typo = cli("set-config", "loop_wiat=3");
    assertThat(typo.rc()).isEqualTo(2);
    assertThat(typo.err()).contains("loop_wiat");
    Run notNumber = cli("set-config", "retry_timeout=soon");
    assertThat(notNumber.rc()).isEqualTo(2);
    assertThat(notNumber.err()).contains("retry_timeout");
    assertThat(config().modRevision()).isEqualTo(before);
    assertThat(cli("show-config").out()).contains("ttl: 14");
  }

  @Test
  @Order(6)
  void editConfigAppliesTheEditedYaml() {
    Run r = cli("edit-config", "--force", "--editor", "sed -i /^ttl:/s/14/16/");
    assertThat(r.rc()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("-ttl: 14").contains("+ttl: 16").contains("applied");
    assertThat(cli("show-config").out()).contains("ttl: 16");

    long before = config().modRevision();
    Run invalid = cli("edit-config", "--force", "--editor", "sed -i /^ttl:/s/16/1/");
    assertThat(invalid.rc()).isEqualTo(2);
    assertThat(invalid.err()).contains("ttl");
    Run noChange = cli("edit-config", "--force", "--editor", "true");
    assertThat(noChange.rc()).isZero();
    assertThat(noChange.out()).contains("no change");
    assertThat(config().modRevision()).isEqualTo(before);

    // An invalid /config: the other verbs refuse and point here; edit-config shows it as stored and fixes it.
    store.put(keys.config(), "{\"ttl\":1}", 0, Duration.ofSeconds(30));
    Run refused = cli("set-config", "ttl=13");
    assertThat(refused.rc()).isNotZero();
    assertThat(refused.err()).contains("edit-config");
    // The read verbs say so too, rather than show the defaults as if they were the config.
    Run shown = cli("show-config");
    assertThat(shown.rc()).isEqualTo(1);
    assertThat(shown.out()).isEmpty();
    assertThat(shown.err()).contains("the stored dynamic config is invalid").contains("edit-config");
    Run listed = cli("list");
    assertThat(listed.rc()).isZero();
    assertThat(listed.err()).contains("the stored dynamic config is invalid");
    Run repaired = cli("edit-config", "--force", "--editor", "sed -i s/:1}/:30}/");
    assertThat(repaired.rc()).as(repaired.out() + repaired.err()).isZero();
    assertThat(repaired.out()).contains("is invalid now").contains("applied");
    assertThat(cli("show-config").out()).contains("ttl: 30");

    assertThat(cli("set-config", "ttl=12", "parameters.work_mem=null").rc()).isZero();
  }

  /** A mistyped scope reads as nothing at all: an error naming it, not an empty table with exit 0. */
  @Test
  @Order(7)
  void aScopeWithNoKeysIsAnErrorNotAnEmptyCluster() {
    String endpoints = String.join(",", CLUSTER.get().local().state().etcdEndpoints());
    for (String verb : List.of("list", "history", "show-config", "topology")) {
      Run r = cli(verb, "--no-target", "--etcd", endpoints, "--scope", "no-such-scope");
      assertThat(r.rc()).as(verb + ": " + r.out() + r.err()).isEqualTo(1);
      assertThat(r.err()).contains("no cluster 'no-such-scope' in etcd");
      assertThat(r.out()).isEmpty();
    }
  }

  @Test
  @Order(7)
  void pauseShowsInListAndResumeClearsIt() throws Exception {
    Run p = cli("pause");
    assertThat(p.rc()).as(p.err()).isZero();
    assertThat(cli("list").out().lines().findFirst().orElseThrow()).contains("paused");
    assertThat(Json.LENIENT.readTree(cli("list", "--json").out()).get("paused").asBoolean()).isTrue();
    assertThat(cli("pause").out()).contains("already paused");

    Run r = cli("resume");
    assertThat(r.rc()).as(r.err()).isZero();
    assertThat(cli("list").out()).doesNotContain("paused");
    assertThat(Json.LENIENT.readTree(cli("list", "--json").out()).get("paused").asBoolean()).isFalse();
  }

  @Test
  @Order(8)
  void aScheduledSwitchoverIsWrittenOnceAndCanBeCancelled() throws Exception {
    // An hour ahead: the agents must not carry it out during this test.
    String at = Instant.now().plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS).toString();
    Run r = cli("switchover", "--leader", leader, "--to", replica, "--at", at, "--force");
    assertThat(r.rc()).as(r.out() + r.err()).isZero();
    RawKv kv = store.get(keys.switchover(), Duration.ofSeconds(3));
    assertThat(Json.LENIENT.readValue(kv.value(), Switchover.class))
        .isEqualTo(new Switchover(leader, replica, at, false, false));

    Run again = cli("switchover", "--to", replica, "--at", at, "--force");
    assertThat(again.rc()).isEqualTo(1);
    assertThat(again.err()).contains("already pending");
    assertThat(store.get(keys.switchover(), Duration.ofSeconds(3)).modRevision()).isEqualTo(kv.modRevision());

    Run cancel = cli("switchover", "--cancel");
    assertThat(cancel.rc()).as(cancel.err()).isZero();
    assertThat(store.get(keys.switchover(), Duration.ofSeconds(3))).isNull();
    assertThat(cli("switchover", "--cancel").rc()).isEqualTo(1);
  }

  @Test
  @Order(9)
  void switchoverAndFailoverRefuseImpossibleRequests() {
    Run notLeader = cli("switchover", "--leader", replica, "--force");
    assertThat(notLeader.rc()).isEqualTo(2);
    assertThat(notLeader.err()).contains(replica + " is not the leader");
    Run unknown = cli("switchover", "--to", "node9", "--force");
    assertThat(unknown.rc()).isEqualTo(2);
    assertThat(unknown.err()).contains("node9 is not a member");
    Run badTime = cli("switchover", "--to", replica, "--at", "tomorrow", "--force");
    assertThat(badTime.rc()).isEqualTo(2);
    assertThat(badTime.err()).contains("ISO-8601");
    Run toLeader = cli("failover", "--to", leader, "--force");
    assertThat(toLeader.rc()).isEqualTo(2);
    assertThat(toLeader.err()).contains("already the leader");
    assertThat(store.get(keys.switchover(), Duration.ofSeconds(3))).isNull();
    assertThat(CLUSTER.get().leader()).contains(leader);
  }

  @Test
  @Order(10)
  void aRestCallWithAWrongPasswordGets401AndChangesNothing() throws Exception {
    TestCluster c = CLUSTER.get();
    long postmaster = c.local().postmasterPid(replica).orElseThrow();
    String api = c.local().node(replica).apiUrl();
    HttpClient http = HttpClient.newHttpClient();
    for (String path : List.of("/restart", "/reinit", "/reload", "/switchover", "/failover")) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api + path))
              .header("Authorization", BasicAuth.header(LocalCluster.API_USER, "not-the-password"))
              .POST(HttpRequest.BodyPublishers.ofString("{\"candidate\":\"" + replica + "\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(path).isEqualTo(401);
      assertThat(r.headers().firstValue("WWW-Authenticate")).as(path).isPresent();
    }
    HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(URI.create(api + "/restart"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(anonymous.statusCode()).isEqualTo(401);

    Run viaCli = cli("restart", replica, "--force", "--api-password", "not-the-password");
    assertThat(viaCli.rc()).isEqualTo(1);
    assertThat(viaCli.out()).contains("refused").contains("credentials");

    assertThat(store.get(keys.switchover(), Duration.ofSeconds(3))).isNull();
    assertThat(c.local().postmasterPid(replica)).contains(postmaster);
    assertThat(c.leader()).contains(leader);
    assertThat(c.agentLog(replica)).contains("wrong credentials").contains("no credentials and no client certificate")
        .doesNotContain("not-the-password");
  }

  @Test
  @Order(11)
  void theCliFindsTheLocalClustersApiCredentials() {
    Run r = cli("reload", replica);
    assertThat(r.rc()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("reload of " + replica + " accepted");
    Run unknown = cli("reload", "node9");
    assertThat(unknown.rc()).isEqualTo(2);
    assertThat(unknown.err()).contains("node9 is not a member");
  }

  @Test
  @Order(12)
  void badArgumentsPrintUsageAndExitNonZero() {
    for (String[] args : List.of(
        new String[] {"frobnicate"},
        new String[] {"list", "--bogus"},
        new String[] {"list", "--watch", "often"},
        new String[] {"failover", "--force"},
        new String[] {"set-config"},
        new String[] {"restart"})) {
      Run r = cli(append(args, "--no-target"));
      assertThat(r.rc()).as(String.join(" ", args)).isEqualTo(2);
      assertThat(r.err()).as(String.join(" ", args)).contains("Usage:");
    }
    Run noCluster = cli("list", "--no-target", "--dir", "/nonexistent");
    assertThat(noCluster.rc()).isEqualTo(2);
    assertThat(noCluster.err()).contains("which cluster").hasLineCount(1);
    // A dynamic setting out of bounds is a bad argument too: exit 2, one line, nothing started or written.
    java.nio.file.Path none = java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "pgwarden-cli-it-never-made");
    Run badTtl = cli("local", "up", "--no-target", "--dir", none.toString(), "--ttl", "1");
    assertThat(badTtl.rc()).isEqualTo(2);
    assertThat(badTtl.err()).contains("--ttl/--loop-wait/--retry-timeout: ttl must be >= 2 seconds, got 1")
        .doesNotContain("line").hasLineCount(1);
    assertThat(none).doesNotExist();
    Run version = cli("version", "--no-target");
    assertThat(version.rc()).isZero();
    assertThat(version.out()).startsWith("pgwarden ");
  }

  private static String[] append(String[] a, String extra) {
    String[] out = java.util.Arrays.copyOf(a, a.length + 1);
    out[a.length] = extra;
    return out;
  }
}
