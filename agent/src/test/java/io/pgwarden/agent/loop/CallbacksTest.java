package io.pgwarden.agent.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgwarden.agent.loop.Callbacks.Event;
import io.pgwarden.agent.loop.Callbacks.Seen;
import io.pgwarden.agent.postgres.ProcessRunner;
import io.pgwarden.common.config.CallbacksConfig;
import io.pgwarden.common.model.LocalPgState;
import io.pgwarden.common.testing.Observations;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Callbacks: the edges derived from observed levels, and real programs run off the loop thread. */
class CallbacksTest {
  @TempDir Path dir;

  @Test
  void edgesComeFromConsecutiveObservations() {
    assertThat(Callbacks.between(null, Seen.PRIMARY)).as("first observation only sets the level").isEmpty();
    assertThat(Callbacks.between(Seen.REPLICA, Seen.REPLICA)).isEmpty();
    assertThat(Callbacks.between(Seen.STOPPED, Seen.REPLICA)).containsExactly(new Event("on_start", "replica"));
    assertThat(Callbacks.between(Seen.PRIMARY, Seen.STOPPED)).containsExactly(new Event("on_stop", "primary"));
    assertThat(Callbacks.between(Seen.REPLICA, Seen.PRIMARY)).containsExactly(new Event("on_role_change", "primary"));
    assertThat(Callbacks.between(Seen.PRIMARY, Seen.REPLICA)).containsExactly(new Event("on_role_change", "replica"));
  }

  @Test
  void scriptsGetActionRoleAndScopeAndNeverBlockTheCaller() throws Exception {
    Path out = dir.resolve("calls.txt");
    Path script = dir.resolve("cb.sh");
    Path gate = dir.resolve("gate");
    // Every callback blocks until the test opens the gate: observed() returning first proves it only queues.
    Files.writeString(script, "#!/bin/sh\nwhile [ ! -e '" + gate + "' ]; do sleep 0.05; done\necho \"$@\" >> '" + out
        + "'\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    List<String> argv = List.of(script.toString(), "--flag with space");
    try (Callbacks cb = new Callbacks(new CallbacksConfig(argv, argv, argv, 10), "main", new ProcessRunner(List.of()))) {
      cb.observed(replica());
      cb.observed(primary());
      cb.observed(stopped());
      cb.observed(LocalPgState.unknown("probe failed", false));
      cb.observed(replica());
      assertThat(out).as("the loop only queues; no callback has run yet").doesNotExist();
      Files.createFile(gate);
      await("callbacks ran in order").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
          .until(() -> Files.exists(out) && Files.readAllLines(out).size() == 3);
      assertThat(Files.readAllLines(out)).containsExactly(
          "--flag with space on_role_change primary main",
          "--flag with space on_stop primary main",
          "--flag with space on_start replica main");
    }
  }

  @Test
  void aHangingScriptIsKilledAfterTheTimeoutAndLaterCallbacksStillRun() throws Exception {
    Path out = dir.resolve("after.txt");
    Path hang = dir.resolve("hang.sh");
    Files.writeString(hang, "#!/bin/sh\nif [ \"$1\" = on_role_change ]; then exec sleep 60; fi\necho \"$1\" >> '" + out + "'\n");
    Files.setPosixFilePermissions(hang, PosixFilePermissions.fromString("rwx------"));
    List<String> argv = List.of(hang.toString());
    try (Callbacks cb = new Callbacks(new CallbacksConfig(argv, argv, argv, 1), "main", new ProcessRunner(List.of()))) {
      cb.observed(replica());
      cb.observed(primary()); // hangs, killed after 1 s
      cb.observed(stopped());
      await("on_stop ran after the hanging one was killed").atMost(Duration.ofSeconds(15))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> Files.exists(out) && Files.readAllLines(out).contains("on_stop"));
      assertThat(Files.readAllLines(out)).containsExactly("on_stop");
    }
  }

  @Test
  void anAgentStoppingPostgresRunsOnStopAndWaitsForTheQueue() throws Exception {
    Path out = dir.resolve("stop.txt");
    Path script = dir.resolve("stop.sh");
    Files.writeString(script, "#!/bin/sh\nsleep 0.3\necho \"$@\" >> '" + out + "'\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    List<String> argv = List.of(script.toString());
    Callbacks cb = new Callbacks(new CallbacksConfig(argv, argv, argv, 10), "main", new ProcessRunner(List.of()));
    cb.observed(stopped());
    cb.observed(primary());
    cb.agentStopping(true);
    // agentStopping returns only once the queue ran: no waiting needed here.
    assertThat(Files.readAllLines(out)).containsExactly("on_start primary main", "on_stop primary main");

    Path none = dir.resolve("none.txt");
    Path quiet = dir.resolve("quiet.sh");
    Files.writeString(quiet, "#!/bin/sh\necho \"$@\" >> '" + none + "'\n");
    Files.setPosixFilePermissions(quiet, PosixFilePermissions.fromString("rwx------"));
    List<String> q = List.of(quiet.toString());
    Callbacks paused = new Callbacks(new CallbacksConfig(q, q, q, 10), "main", new ProcessRunner(List.of()));
    paused.observed(primary());
    paused.agentStopping(false); // left running (paused): no on_stop
    assertThat(none).doesNotExist();
  }

  @Test
  void configRejectsAnEmptyProgram() {
    assertThatThrownBy(() -> new CallbacksConfig(List.of(), null, null, null)).hasMessageContaining("on_role_change");
    assertThatThrownBy(() -> new CallbacksConfig(null, null, null, 0)).hasMessageContaining("timeout");
    assertThat(CallbacksConfig.NONE.timeout()).isEqualTo(CallbacksConfig.DEFAULT_TIMEOUT);
  }

  private static LocalPgState replica() {
    return Observations.node("n1").replicaRunning(1, "0/3000000").build().local();
  }

  private static LocalPgState primary() {
    return Observations.node("n1").primaryRunning(2, "0/4000000").build().local();
  }

  private static LocalPgState stopped() {
    return Observations.node("n1").stopped(io.pgwarden.common.model.ControlState.SHUT_DOWN, 2, "0/4000000").build()
        .local();
  }
}
