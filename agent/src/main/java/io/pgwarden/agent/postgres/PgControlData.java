package io.pgwarden.agent.postgres;

import io.pgwarden.agent.port.PostgresCommandException;
import io.pgwarden.common.model.ControlState;
import io.pgwarden.common.model.Lsn;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The fields of {@code pg_controldata} pgwarden decides on: what a stopped data directory last was.
 *
 * @param minRecoveryEnd "Minimum recovery ending location"; 0/0 when the directory needs none
 * @param minRecoveryEndTimeline "Min recovery ending loc's timeline"; 0 when none
 */
public record PgControlData(
    ControlState state, String systemId, Lsn checkpointLsn, long checkpointTimeline, Lsn minRecoveryEnd,
    long minRecoveryEndTimeline) {

  /** Runs {@code pg_controldata}; the C locale keeps its labels parseable. */
  public static PgControlData read(ProcessRunner runner, Path binDir, Path dataDir, Path workDir) {
    ProcessRunner.Result r = runner.runChecked("pg_controldata",
        List.of(binDir.resolve("pg_controldata").toString(), "-D", dataDir.toString()),
        Map.of("LC_ALL", "C", "LANG", "C"), workDir, Duration.ofSeconds(30));
    return parse(r.stdout());
  }

  /** Parses {@code pg_controldata} output printed under {@code LC_ALL=C}. */
  public static PgControlData parse(String output) {
    Map<String, String> fields = new HashMap<>();
    for (String line : output.split("\n")) {
      int colon = line.indexOf(':');
      // Labels contain "'s" but never ':'; values (dates) may, so split at the first one only.
      if (colon > 0) {
        fields.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
      }
    }
    try {
      ControlState state = ControlState.parse(require(fields, "Database cluster state"));
      String systemId = require(fields, "Database system identifier");
      Lsn checkpoint = Lsn.parse(require(fields, "Latest checkpoint location"));
      long tli = Long.parseLong(require(fields, "Latest checkpoint's TimeLineID"));
      String minRec = fields.get("Minimum recovery ending location");
      String minRecTli = fields.get("Min recovery ending loc's timeline");
      return new PgControlData(state, systemId, checkpoint, tli, minRec == null ? Lsn.ZERO : Lsn.parse(minRec),
          minRecTli == null || minRecTli.isEmpty() ? 0 : Long.parseLong(minRecTli));
    } catch (IllegalArgumentException e) {
      throw new PostgresCommandException("pg_controldata", "unexpected output: " + e.getMessage(), e);
    }
  }

  private static String require(Map<String, String> fields, String label) {
    String v = fields.get(label);
    if (v == null || v.isEmpty()) {
      throw new IllegalArgumentException("missing '" + label + "'");
    }
    return v;
  }
}
