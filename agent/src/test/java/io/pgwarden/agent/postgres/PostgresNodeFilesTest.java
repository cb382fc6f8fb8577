package io.pgwarden.agent.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.agent.port.ReplicationSource;
import io.pgwarden.common.config.Credentials;
import io.pgwarden.common.config.HostPort;
import io.pgwarden.common.config.PostgresConfig;
import io.pgwarden.common.decide.Action.StartMode;
import io.pgwarden.common.model.Lsn;
import io.pgwarden.common.model.TimelineSwitch;
import io.pgwarden.common.model.DataDirState;
import io.pgwarden.common.model.LocalPgState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The text pgwarden writes, checked without running anything. */
class PostgresNodeFilesTest {
  private static final Credentials SUPER = new Credentials("postgres", null, null, null).withPassword("s3cret'su");
  private static final Credentials REPL = new Credentials("replicator", null, null, null).withPassword("r3pl:pw");

  private static PostgresNode node(Map<String, Object> params) {
    PostgresConfig cfg = new PostgresConfig(null, "/var/lib/pgwarden/node1", HostPort.parse("127.0.0.1:5433"), null,
        new PostgresConfig.Authentication(SUPER, REPL), params, null);
    return new PostgresNode("node-1", cfg, SUPER, REPL, new ProcessRunner(List.of()));
  }

  @Test
  void replicaConfigPointsAtUpstreamThroughThePassfileAndNeverHoldsAPassword() {
    String conf = PostgresNode.renderConf(
        node(Map.of()).managedSettings(StartMode.REPLICA, new ReplicationSource("node2", "10.0.0.2", 5432)));

    assertThat(conf)
        .contains("primary_conninfo = 'host=''10.0.0.2'' port=''5432'' user=''replicator''"
            + " passfile=''/var/lib/pgwarden/node1.pgpass'' application_name=''node-1'' connect_timeout=''5'''")
        .contains("primary_slot_name = 'node_1'")
        .contains("recovery_target_timeline = 'latest'")
        .contains("unix_socket_directories = '/var/lib/pgwarden'")
        .contains("cluster_name = 'node-1'")
        .contains("wal_retrieve_retry_interval = '1s'")
        .doesNotContain("r3pl").doesNotContain("s3cret");
  }

  @Test
  void primaryConfigHasNoReplicationSourceAndUserParametersWin() {
    String conf = PostgresNode.renderConf(
        node(Map.of("max_wal_senders", 20, "work_mem", "8MB")).managedSettings(StartMode.PRIMARY, null));

    assertThat(conf).doesNotContain("primary_conninfo").contains("recovery_target_timeline = 'latest'")
        .contains("max_wal_senders = '20'").doesNotContain("max_wal_senders = '10'")
        .contains("work_mem = '8MB'").contains("wal_level = 'replica'").contains("port = '5433'");
  }

  @Test
  void dynamicParametersOverrideDefaultsAndTheNodeConfigOverridesThem() {
    PostgresNode n = node(Map.of("work_mem", "16MB"));
    n.useDynamicParameters(Map.of("work_mem", "8MB", "wal_keep_size", "1GB", "log_line_prefix", "%m 'x'\n"));
    Map<String, String> s = n.managedSettings(StartMode.PRIMARY, null);

    assertThat(s).containsEntry("work_mem", "16MB").containsEntry("wal_keep_size", "1GB");
    assertThat(PostgresNode.renderConf(s)).contains("log_line_prefix = '%m ''x''\\n'\n")
        .doesNotContain("wal_keep_size = '256MB'");
  }

  @Test
  void replicaOfNobodyHasAnEmptyConninfo() {
    assertThat(node(Map.of()).managedSettings(StartMode.REPLICA, null)).containsEntry("primary_conninfo", "");
  }

  @Test
  void includeIsAppendedOnceAndStaysLast() {
    String once = PostgresNode.withInclude("max_connections = 100\n");
    assertThat(once).isEqualTo("max_connections = 100\ninclude 'pgwarden.conf'\n");
    assertThat(PostgresNode.withInclude(once)).isEqualTo(once);
    assertThat(PostgresNode.withInclude("include 'pgwarden.conf'\nwork_mem = 1MB\n"))
        .isEqualTo("work_mem = 1MB\ninclude 'pgwarden.conf'\n");
  }

  @Test
  void defaultHbaUsesScramAndAllowsReplicationForTheReplicationUserOnly() {
    assertThat(node(Map.of()).hbaLines())
        .contains("local all all scram-sha-256", "host all all 127.0.0.1/32 scram-sha-256",
            "host replication \"replicator\" 127.0.0.1/32 scram-sha-256",
            "host replication \"replicator\" ::1/128 scram-sha-256")
        .noneMatch(l -> l.contains("trust"))
        .noneMatch(l -> l.startsWith("host replication") && l.contains("0.0.0.0/0"));
  }

  @Test
  void replicationIsAllowedFromTheMembersHostsOnly() {
    PostgresNode n = node(Map.of());
    n.useReplicationHosts(java.util.Set.of("127.0.0.1", "::1", "10.0.0.2", "fd00::3"));
    assertThat(n.hbaLines()).filteredOn(l -> l.contains("replication")).containsExactly(
        "host replication \"replicator\" 10.0.0.2/32 scram-sha-256",
        "host replication \"replicator\" 127.0.0.1/32 scram-sha-256",
        "host replication \"replicator\" ::1/128 scram-sha-256",
        "host replication \"replicator\" fd00::3/128 scram-sha-256");
  }

  @Test
  void membersKnownByNameMayReplicateFromAnyAddressWithThePassword() {
    PostgresNode n = node(Map.of());
    n.useReplicationHosts(java.util.Set.of("127.0.0.1", "::1", "10.0.0.2", "db-4.example"));
    assertThat(n.hbaLines()).filteredOn(l -> l.contains("replication"))
        .contains("host replication \"replicator\" 10.0.0.2/32 scram-sha-256",
            "host replication \"replicator\" 0.0.0.0/0 scram-sha-256",
            "host replication \"replicator\" ::/0 scram-sha-256")
        .noneMatch(l -> l.contains("db-4.example"))
        .allMatch(l -> l.contains("\"replicator\"") && l.endsWith("scram-sha-256"));
  }

  @Test
  void upstreamIsHostAndPortOfPrimaryConninfo() {
    assertThat(PostgresNode.upstreamOf("host='10.0.0.2' port='5433' user='r' passfile='/x'")).isEqualTo("10.0.0.2:5433");
    assertThat(PostgresNode.upstreamOf("host=db user=r")).isEqualTo("db:5432");
    assertThat(PostgresNode.upstreamOf("")).isNull();
    assertThat(PostgresNode.upstreamOf(null)).isNull();
  }

  @Test
  void parsesTimelineHistory() {
    assertThat(PostgresNode.parseHistory("1\t0/3000148\tno recovery target specified\n\n"
        + "2\t0/5000000\tno recovery target specified\n"))
        .containsExactly(new TimelineSwitch(1, Lsn.parse("0/3000148")), new TimelineSwitch(2, Lsn.parse("0/5000000")));
  }

  @Test
  void probeOfAMissingEmptyOrStrayDataDirectoryNeedsNoServer(@TempDir Path tmp) throws IOException {
    Path data = tmp.resolve("data");
    PostgresConfig cfg = new PostgresConfig(null, data.toString(), HostPort.parse("127.0.0.1:5433"), null,
        new PostgresConfig.Authentication(SUPER, REPL), null, null);
    PostgresNode n = new PostgresNode("n", cfg, SUPER, REPL, new ProcessRunner(List.of()));

    assertThat(n.probe().dataDir()).isEqualTo(DataDirState.EMPTY);
    Files.createDirectory(data);
    assertThat(n.probe().dataDir()).isEqualTo(DataDirState.EMPTY);
    Files.writeString(data.resolve("PG_VERSION"), "15\n");
    LocalPgState s = n.probe();
    assertThat(s.dataDir()).isEqualTo(DataDirState.INVALID);
    assertThat(s.running()).isFalse();
    assertThat(s.probeError()).isNull();
  }

  @Test
  void onlyAFailureToConnectProvesThatPgRewindLeftTheTargetUntouched() {
    String refused = "pg_rewind: error: connection to server at \"127.0.0.1\", port 40643 failed: Connection refused\n"
        + "\tIs the server running on that host and accepting TCP/IP connections?";
    assertThat(PostgresNode.failedBeforeTouchingTarget(
        new io.pgwarden.agent.port.PostgresCommandException("pg_rewind", 1, refused))).isTrue();
    String midway = "pg_rewind: servers diverged at WAL location 0/3041588 on timeline 1\n"
        + "pg_rewind: rewinding from last common checkpoint at 0/3000060 on timeline 1\n"
        + "pg_rewind: error: could not fetch remote file \"base/5/1259\": server closed the connection unexpectedly";
    assertThat(PostgresNode.failedBeforeTouchingTarget(
        new io.pgwarden.agent.port.PostgresCommandException("pg_rewind", 1, midway))).isFalse();
    assertThat(PostgresNode.failedBeforeTouchingTarget(
        new io.pgwarden.agent.port.PostgresCommandException("pg_rewind", -1, "timed out after PT10M; " + refused)))
        .isFalse();
    assertThat(PostgresNode.failedBeforeTouchingTarget(
        new io.pgwarden.agent.port.PostgresCommandException("pg_rewind", "could not start: no such file", null)))
        .isFalse();
  }
}
