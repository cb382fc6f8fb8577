package io.pgwarden.agent.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.common.json.Json;
import java.lang.reflect.Field;
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
        dir.resolve("secrets/api").toString());
    Files.writeString(dir.resolve(LocalCluster.STATE_FILE), Json.writePretty(s));
    LocalCluster c = LocalCluster.load(dir);
    assertThat(c.state()).isEqualTo(s);
    assertThat(c.archiveTime()).isEqualTo(Duration.ZERO);
    assertThat(c.etcd()).isEmpty();
  }
}
