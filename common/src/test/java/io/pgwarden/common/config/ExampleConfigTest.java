package io.pgwarden.common.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.common.model.SynchronousMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * deploy/config/agent.example.yaml is what operators copy; parsing it here keeps it from drifting
 * from the records (jetcd's docs/Lease.md documented an API that no longer existed).
 */
class ExampleConfigTest {
  // Surefire runs with the module directory as the working directory.
  private static final Path EXAMPLE = Path.of("../deploy/config/agent.example.yaml");

  @Test
  void exampleParsesWithEveryFieldSet() {
    AgentConfig c = ConfigLoader.load(EXAMPLE);

    assertThat(c.scope()).isEqualTo("main");
    assertThat(c.name()).isEqualTo("pgsql-1");
    assertThat(c.namespace()).isEqualTo("/pgwarden");
    assertThat(c.keys().leader()).isEqualTo("/pgwarden/main/leader");

    assertThat(c.etcd().endpoints()).hasSize(3).allMatch(e -> e.startsWith("http://") && e.endsWith(":2379"));
    assertThat(c.etcd().auth().username()).isEqualTo("pgwarden");
    assertThat(c.etcd().auth().passwordFile()).isEqualTo("/etc/pgwarden/etcd.password");
    assertThat(c.etcd().tls().ca()).isEqualTo("/etc/pgwarden/etcd-ca.pem");
    assertThat(c.etcd().tls().cert()).isNotNull();
    assertThat(c.etcd().tls().key()).isNotNull();

    assertThat(c.api().listen()).isEqualTo(new HostPort("0.0.0.0", 8008));
    assertThat(c.api().url()).isEqualTo("http://10.0.0.11:8008");
    assertThat(c.api().auth().passwordEnv()).isEqualTo("PGWARDEN_API_PASSWORD");

    PostgresConfig pg = c.postgresql();
    assertThat(pg.binDir()).isEqualTo("/usr/lib/postgresql/15/bin");
    assertThat(pg.dataDir()).isEqualTo("/var/lib/pgwarden/" + c.name());
    assertThat(pg.listen()).isEqualTo(new HostPort("0.0.0.0", 5432));
    assertThat(pg.connectAddress()).isEqualTo(new HostPort("10.0.0.11", 5432));
    assertThat(pg.authentication().superuser().username()).isEqualTo("postgres");
    assertThat(pg.authentication().superuser().passwordFile()).isNotNull();
    assertThat(pg.authentication().replication().username()).isEqualTo("repuser");
    assertThat(pg.authentication().replication().passwordEnv()).isEqualTo("PGWARDEN_REPLICATION_PASSWORD");
    assertThat(pg.parameters()).containsEntry("max_connections", 100);
    assertThat(pg.pgHba()).contains("host replication repuser 10.0.0.12/32 scram-sha-256");

    assertThat(c.tags().nofailover()).isFalse();
    assertThat(c.tags().noloadbalance()).isFalse();
    assertThat(c.tags().failoverPriority()).isEqualTo(1);
    assertThat(c.tags().nosync()).isFalse();

    assertThat(c.bootstrap().ttl()).isEqualTo(30);
    assertThat(c.bootstrap().loopWait()).isEqualTo(10);
    assertThat(c.bootstrap().retryTimeout()).isEqualTo(10);
    assertThat(c.bootstrap().maximumLagOnFailover()).isEqualTo(1048576L);
    // DESIGN.md: losing acknowledged writes must be an explicit choice, so the example shows "on".
    assertThat(c.bootstrap().synchronousMode()).isEqualTo(SynchronousMode.ON);
    assertThat(c.bootstrap().synchronousNodeCount()).isEqualTo(1);
    assertThat(c.bootstrap().paused()).isFalse();
    assertThat(c.bootstrap().parameters()).containsEntry("wal_keep_size", "256MB");
  }

  /** Each node config under deploy/compose is a real config too; the compose cluster starts from them. */
  @Test
  void composeNodeConfigsParse() throws Exception {
    Path dir = Path.of("../deploy/compose");
    List<Path> files;
    try (var s = Files.list(dir)) {
      files = s.filter(p -> p.getFileName().toString().matches("pg\\d+\\.yaml")).sorted().toList();
    }
    assertThat(files).hasSize(3);
    for (Path f : files) {
      AgentConfig c = ConfigLoader.load(f);
      assertThat(f.getFileName().toString()).isEqualTo(c.name() + ".yaml");
      assertThat(c.postgresql().dataDir()).isEqualTo("/var/lib/pgwarden/" + c.name());
      assertThat(c.api().url()).isEqualTo("http://" + c.name() + ":8008");
      assertThat(c.etcd().endpoints()).hasSize(3);
    }
  }
}
