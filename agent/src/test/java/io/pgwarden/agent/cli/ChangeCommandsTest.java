package io.pgwarden.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.agent.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Argument checks that need no cluster: they fail before connecting, so no etcd is needed. */
class ChangeCommandsTest {
  @ParameterizedTest
  @ValueSource(strings = {"switchover", "failover"})
  void aNegativeWaitIsRefused(String verb) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    // Nothing listens on port 1: reaching etcd would mean the check came too late.
    int rc = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), verb, "--to", "node2", "--force",
        "--wait", "-5", "--etcd", "http://127.0.0.1:1", "--scope", "t");
    assertThat(rc).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("pgwarden: --wait must be 0 (don't wait) or more seconds, got -5"
        + System.lineSeparator());
  }

  @Test
  void onlyKeysBoundToALeaseShowARunningAgent() {
    io.pgwarden.agent.port.RawScope raw = new io.pgwarden.agent.port.RawScope(9, java.util.List.of(
        new io.pgwarden.agent.port.RawKv("/pgwarden/s/initialize", "1", 2, 2, 1, 0),
        new io.pgwarden.agent.port.RawKv("/pgwarden/s/members/node2", "{}", 5, 5, 1, 77),
        new io.pgwarden.agent.port.RawKv("/pgwarden/s/leader", "node2", 6, 6, 1, 77)));
    assertThat(ChangeCommands.boundToALease(raw, "/pgwarden/s/")).containsExactly("leader", "members/node2");
  }

  @Test
  void aVerbOnAStoppedLocalClusterSaysHowToStartItAgain(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    java.nio.file.Files.writeString(dir.resolve(io.pgwarden.agent.local.LocalCluster.STOPPED_FILE), "{}");
    StringWriter err = new StringWriter();
    int rc = Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "pause", "--dir",
        dir.toString());
    assertThat(rc).isEqualTo(1);
    assertThat(err.toString()).contains("the local cluster in " + dir + " is stopped; `pgwarden local up --dir "
        + dir + "` starts it again");
  }

  /** Standbys before their primary: PostgreSQL wants a hot standby's max_connections and the like raised first. */
  @Test
  void aRollingRestartTakesThePendingReplicasFirstAndTheLeaderLast() {
    java.util.Map<String, io.pgwarden.common.model.Member> members = new java.util.TreeMap<>();
    // e's key is bound to no lease: no running agent's.
    for (String[] m : new String[][] {{"a", "true", "7"}, {"b", "true", "7"}, {"c", "false", "7"}, {"d", "true", "7"},
        {"e", "true", "0"}}) {
      members.put(m[0], new io.pgwarden.common.model.Member(new io.pgwarden.common.model.MemberStatus(m[0],
          io.pgwarden.common.model.Role.REPLICA, "running", 1L, null, null, true, null, null, null, "1", null, "dev",
          1L, Boolean.parseBoolean(m[1])), 1, Long.parseLong(m[2])));
    }
    io.pgwarden.common.model.ClusterView v = new io.pgwarden.common.model.ClusterView(true, null, 10, "1",
        new io.pgwarden.common.model.LeaderRecord("b", 7, 3), members, null, null,
        io.pgwarden.common.model.DynamicConfig.DEFAULTS, null);

    assertThat(ChangeCommands.RestartCommand.rollingOrder(v)).extracting(io.pgwarden.common.model.MemberStatus::name)
        .containsExactly("a", "d", "b");
  }

  @Test
  void restartWithoutANameNeedsPending() {
    StringWriter err = new StringWriter();
    int rc = Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "restart", "--etcd",
        "http://127.0.0.1:1", "--scope", "t");
    assertThat(rc).isEqualTo(2);
    assertThat(err.toString()).contains("give the member to restart, or --pending").contains("Usage:");
  }
}
