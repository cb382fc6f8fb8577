package io.pgwarden.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.agent.Main;
import io.pgwarden.agent.etcd.JetcdClusterStore;
import io.pgwarden.agent.local.EtcdServer;
import io.pgwarden.agent.port.RawKv;
import io.pgwarden.common.config.EtcdConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pgwarden remove} against a real etcd: what it refuses, what it deletes and what it leaves. */
class RemoveCommandIT {
  private static final Duration T = Duration.ofSeconds(10);
  @TempDir static Path dir;
  private static EtcdServer etcd;
  private static JetcdClusterStore store;

  @BeforeAll
  static void startEtcd() {
    etcd = EtcdServer.start(dir.resolve("etcd"), 1);
    store = JetcdClusterStore.connect(new EtcdConfig(etcd.endpoints(), null, null), null);
  }

  @AfterAll
  static void stopEtcd() {
    if (store != null) {
      store.close();
    }
    if (etcd != null) {
      etcd.close();
    }
  }

  @Test
  void removesAStoppedClustersKeysAndNothingElse() {
    store.put("/pgwarden/gone/initialize", "7000", 0, T);
    store.put("/pgwarden/gone/config", "{\"ttl\":10}", 0, T);
    store.put("/pgwarden/gone/history", "[]", 0, T);
    // Another cluster whose name starts the same way, and another namespace.
    store.put("/pgwarden/gone2/initialize", "7001", 0, T);
    store.put("/other/gone/initialize", "7002", 0, T);
    long lease = store.grantLease(Duration.ofSeconds(60), T).leaseId();
    store.put("/pgwarden/gone/members/node1", "{}", lease, T);

    Run unconfirmed = remove("--scope", "gone");
    assertThat(unconfirmed.rc).isEqualTo(2);
    assertThat(unconfirmed.err).contains("give --confirm gone");

    Run live = remove("--scope", "gone", "--confirm", "gone");
    assertThat(live.rc).isEqualTo(1);
    assertThat(live.err).contains("still has running agents (keys bound to a lease: members/node1)");
    assertThat(keys("/pgwarden/gone/")).hasSize(4);

    store.revokeLease(lease, T);
    Run removed = remove("--scope", "gone", "--confirm", "gone");
    assertThat(removed.rc).as(removed.err).isZero();
    assertThat(removed.out).contains("removed cluster gone: 3 keys under /pgwarden/gone/");
    assertThat(keys("/pgwarden/gone/")).isEmpty();
    assertThat(keys("/pgwarden/gone2/")).containsExactly("/pgwarden/gone2/initialize");
    assertThat(keys("/other/gone/")).containsExactly("/other/gone/initialize");

    Run again = remove("--scope", "gone", "--confirm", "gone");
    assertThat(again.rc).isZero();
    assertThat(again.out).contains("nothing to remove");
  }

  private record Run(int rc, String out, String err) {}

  private static Run remove(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    List<String> argv = new java.util.ArrayList<>(List.of("remove", "--etcd", etcd.endpointsCsv()));
    argv.addAll(List.of(args));
    int rc = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), argv.toArray(String[]::new));
    return new Run(rc, out.toString(), err.toString());
  }

  private static List<String> keys(String prefix) {
    return store.readPrefix(prefix, T).kvs().stream().map(RawKv::key).toList();
  }
}
