package io.pgwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** The command tree: the agent is built alone, the operator CLI in full. */
class MainTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    return Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
  }

  @Test
  void usageListsTheAgentAndEveryCliVerbInOrder() {
    assertThat(run("--help")).isZero();
    assertThat(out.toString()).containsSubsequence("agent", "local", "list", "topology", "history", "show-config",
        "switchover", "failover", "pause", "resume", "set-config", "edit-config", "restart", "reload", "reinit",
        "version");
  }

  @Test
  void aMistypedVerbIsAnsweredWithTheWholeTree() {
    assertThat(run("switchovr")).isEqualTo(2);
    assertThat(err.toString()).contains("switchover").contains("edit-config");
  }

  @Test
  void theAgentCommandParsesOnItsOwn() {
    assertThat(run("agent", "--help")).isZero();
    assertThat(out.toString()).contains("--config");
    assertThat(run("agent")).isEqualTo(2);
    assertThat(err.toString()).contains("Missing required option: '--config=<config>'");
  }

  @Test
  void failoverWithoutAMemberNamesTheOptionTheUsageShows() {
    assertThat(run("failover", "--force", "--etcd", "http://127.0.0.1:1")).isEqualTo(2);
    assertThat(err.toString()).contains("Missing required option: '--to=NAME'").doesNotContain("--candidate=NAME'");
    assertThat(run("failover", "--help")).isZero();
    assertThat(out.toString()).contains("--to=NAME");
  }
}
