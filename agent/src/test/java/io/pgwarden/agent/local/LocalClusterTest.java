package io.pgwarden.agent.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.common.json.Json;
import java.lang.reflect.Field;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a LocalCluster holds, without starting etcd or PostgreSQL. */
class LocalClusterTest {
  /**
   * Everything but the recorded state is fixed when the cluster is made: the archive time is what {@code up}
   * measured (benchmarks leave it out of a cluster's start), and nothing after may change it. The state
   * is replaced as agents start, with their pids.
   */
  @Test
  void onlyTheRecordedStateChangesAfterConstruction() {
    List<String> mutable = Arrays.stream(LocalCluster.class.getDeclaredFields())
        .filter(f -> !Modifier.isStatic(f.getModifiers()) && !Modifier.isFinal(f.getModifiers()))
        .map(Field::getName).toList();
    assertThat(mutable).containsExactly("state");
  }

  @Test
  void aLoadedClusterMadeNoArchiveAndStartedNoEtcd(@TempDir Path dir) throws Exception {
    LocalCluster.State s = new LocalCluster.State("main", "/pgwarden", List.of("http://127.0.0.1:2379"), List.of(1L),
        dir.resolve("etcd").toString(), dir.resolve("pgwarden.jar").toString(), false, "postgres",
        dir.resolve("secrets/superuser").toString(), List.of(), List.of(), LocalCluster.API_USER,
        dir.resolve("secrets/api").toString(), List.of(23790, 23800));
    Files.writeString(dir.resolve(LocalCluster.STATE_FILE), Json.writePretty(s));
    LocalCluster c = LocalCluster.load(dir);
    assertThat(c.state()).isEqualTo(s);
    assertThat(c.archiveTime()).isEqualTo(Duration.ZERO);
    assertThat(c.etcd()).isEmpty();
  }

  /**
   * A new cluster over an earlier one's data would make new passwords for old data directories: agents that
   * cannot log in to their own PostgreSQL (seen after `local down` and `local up` in the same folder).
   */
  @Test
  void upRefusesAFolderWithAnEarlierClustersDataAndNoRecordOfIt(@TempDir Path dir) throws Exception {
    Files.createDirectories(dir.resolve("node2/data"));
    Files.createDirectories(dir.resolve("secrets"));
    Files.writeString(dir.resolve("secrets/superuser"), "the old password\n");

    assertThatThrownBy(() -> LocalCluster.up(options(dir)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("holds data of an earlier local cluster (secrets/, node2/data/)")
        .hasMessageContaining("rm -rf " + dir.toAbsolutePath());
    assertThat(Files.readString(dir.resolve("secrets/superuser"))).isEqualTo("the old password\n");
    assertThat(dir.resolve("etcd")).doesNotExist();
  }

  @Test
  void downKeepsTheClustersRecordWithoutProcessesAndStatusSaysHowToStartItAgain(@TempDir Path dir)
      throws Exception {
    LocalCluster.State s = state(dir, 0, 0);
    Files.writeString(dir.resolve(LocalCluster.STATE_FILE), Json.writePretty(s));

    LocalCluster.load(dir).down();

    assertThat(dir.resolve(LocalCluster.STATE_FILE)).doesNotExist();
    assertThat(LocalCluster.isStopped(dir)).isTrue();
    LocalCluster.State stopped = Json.LENIENT.readValue(dir.resolve(LocalCluster.STOPPED_FILE).toFile(),
        LocalCluster.State.class);
    assertThat(stopped.etcdPids()).isEmpty();
    assertThat(stopped.nodes()).extracting(LocalCluster.NodeState::agentPid).containsOnly(0L);
    assertThat(stopped.nodes()).isEqualTo(s.nodes());
    assertThat(stopped.etcdPorts()).isEqualTo(s.etcdPorts());
    assertThatThrownBy(() -> LocalCluster.load(dir))
        .hasMessageContaining("is stopped; `pgwarden local up --dir " + dir.toAbsolutePath() + "` starts it again");
  }

  @Test
  void aStoppedClusterStartsAgainOnlyOnItsOwnPortsAndSaysWhichAreTaken(@TempDir Path dir) throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      int port = taken.getLocalPort();
      Files.writeString(dir.resolve(LocalCluster.STOPPED_FILE), Json.writePretty(state(dir, port, 0)));

      assertThatThrownBy(() -> LocalCluster.up(options(dir)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("cannot start the stopped cluster in " + dir.toAbsolutePath() + " again: port "
              + port + " (node1's PostgreSQL) in use by another process now");
    }
    assertThat(LocalCluster.isStopped(dir)).as("the record stays for a later try").isTrue();
  }

  @Test
  void aStoppedClusterRecordedWithoutEtcdsPortsIsNotStartedOnOthers(@TempDir Path dir) throws Exception {
    LocalCluster.State s = state(dir, 0, 0);
    LocalCluster.State older = new LocalCluster.State(s.scope(), s.namespace(), s.etcdEndpoints(), s.etcdPids(),
        s.etcdDir(), s.jar(), s.runAsPostgres(), s.superuser(), s.superuserPasswordFile(), s.nodes(), s.jvmArgs(),
        s.apiUser(), s.apiPasswordFile(), null);
    Files.writeString(dir.resolve(LocalCluster.STOPPED_FILE), Json.writePretty(older));

    assertThatThrownBy(() -> LocalCluster.up(options(dir)))
        .hasMessageContaining("did not record etcd's ports");
  }

  private static LocalCluster.Options options(Path dir) {
    return new LocalCluster.Options(dir, 3, "main", dir.resolve("no.jar"), null, null, 1, "/nonexistent/bin");
  }

  /** A cluster of one node whose ports are free unless given. */
  private static LocalCluster.State state(Path dir, int pgPort, long pid) {
    List<Integer> free = FreePorts.take(4);
    LocalCluster.NodeState n = new LocalCluster.NodeState("node1", pgPort != 0 ? pgPort : free.get(0), free.get(1),
        dir.resolve("node1/data").toString(), dir.resolve("node1/pgwarden.yaml").toString(),
        dir.resolve("node1/agent.log").toString(), pid);
    return new LocalCluster.State("main", "/pgwarden", List.of("http://127.0.0.1:" + free.get(2)), List.of(),
        dir.resolve("etcd").toString(), dir.resolve("pgwarden.jar").toString(), false, "postgres",
        dir.resolve("secrets/superuser").toString(), List.of(n), List.of(), LocalCluster.API_USER,
        dir.resolve("secrets/api").toString(), List.of(free.get(2), free.get(3)));
  }
}
