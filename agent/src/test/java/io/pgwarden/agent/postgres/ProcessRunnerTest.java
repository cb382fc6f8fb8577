package io.pgwarden.agent.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.agent.port.PostgresCommandException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProcessRunnerTest {
  private final ProcessRunner runner = new ProcessRunner(List.of());

  @Test
  void capturesStdoutExitCodeAndEnvironment() {
    ProcessRunner.Result r = runner.run(List.of("/bin/sh", "-c", "echo \"$PGW_X\"; echo oops >&2; exit 3"),
        Map.of("PGW_X", "hello"), null, Duration.ofSeconds(10));

    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.stdout()).isEqualTo("hello\n");
    assertThat(r.stderrTail()).isEqualTo("oops\n");
    assertThat(r.ok()).isFalse();
  }

  @Test
  void keepsOnlyTheTailOfStderr() {
    ProcessRunner.Result r = runner.run(
        List.of("/bin/sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo line$i >&2; i=$((i+1)); done; echo LAST >&2"),
        Map.of(), null, Duration.ofSeconds(10));

    assertThat(r.stderrTail()).hasSizeLessThanOrEqualTo(2048).endsWith("LAST\n");
  }

  @Test
  void checkedFailureNamesTheCommandAndRedactsPasswords() {
    assertThatThrownBy(() -> runner.runChecked("pg_thing",
        List.of("/bin/sh", "-c", "echo \"could not connect: password=hunter2 host=x\" >&2; exit 1"),
        Map.of(), null, Duration.ofSeconds(10)))
        .isInstanceOf(PostgresCommandException.class)
        .hasMessageContaining("pg_thing failed with exit code 1")
        .hasMessageContaining("password=***")
        .hasMessageNotContaining("hunter2");
  }

  @Test
  void timeoutKillsTheWholeProcessTree() {
    long started = System.nanoTime();
    ProcessRunner.Result r = runner.run(List.of("/bin/sh", "-c", "sleep 30 & sleep 30; wait"), Map.of(), null,
        Duration.ofMillis(300));

    assertThat(r.timedOut()).isTrue();
    assertThat(r.exitCode()).isEqualTo(-1);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void redactsQuotedAndBarePasswords() {
    assertThat(ProcessRunner.redact("host=a password='x y\\'z' user=b password=abc"))
        .isEqualTo("host=a password=*** user=b password=***");
  }

  @Test
  void prefixIsPutInFrontOfEveryCommand() {
    ProcessRunner prefixed = new ProcessRunner(List.of("/usr/bin/env", "PGW_Y=1"));
    assertThat(prefixed.run(List.of("/bin/sh", "-c", "echo $PGW_Y"), Map.of(), null, Duration.ofSeconds(10)).stdout())
        .isEqualTo("1\n");
  }
}
