package io.pgwarden.agent.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a failed start quotes from the server's log: its own lines since the start, FATAL and PANIC only. */
class ServerLogTest {
  @TempDir Path dir;

  @Test
  void theLastFatalLinesWrittenSinceTheStartAreQuoted() throws Exception {
    Path log = dir.resolve("data.log");
    Files.writeString(log, "2026-11-29 10:00:00 UTC [1] FATAL:  an older start's reason\n");
    long from = Files.size(log);
    Files.writeString(log, String.join("\n",
        "2026-11-29 10:01:00 UTC [2] LOG:  starting PostgreSQL 15",
        "2026-11-29 10:01:00 UTC [2] FATAL:  could not access file \"nolib\": No such file or directory",
        "2026-11-29 10:01:00 UTC [2] LOG:  database system is shut down", ""),
        java.nio.file.StandardOpenOption.APPEND);

    assertThat(PostgresNode.serverSaid(log, from))
        .isEqualTo("FATAL:  could not access file \"nolib\": No such file or directory");
    assertThat(PostgresNode.serverSaid(log, Files.size(log))).as("nothing new").isEmpty();
    assertThat(PostgresNode.serverSaid(dir.resolve("missing.log"), 0)).isEmpty();
  }
}
