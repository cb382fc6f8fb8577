package io.pgwarden.agent.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.agent.port.PostgresCommandException;
import io.pgwarden.common.model.ControlState;
import io.pgwarden.common.model.Lsn;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PgControlDataTest {

  private static String sample() throws IOException {
    try (InputStream in = PgControlDataTest.class.getResourceAsStream("pg_controldata-15-shutdown.txt")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void parsesCapturedPostgres15Output() throws IOException {
    PgControlData cd = PgControlData.parse(sample());

    assertThat(cd.state()).isEqualTo(ControlState.SHUT_DOWN);
    assertThat(cd.systemId()).isEqualTo("7712704988784312566");
    assertThat(cd.checkpointLsn()).isEqualTo(Lsn.parse("0/17414F8"));
    assertThat(cd.checkpointTimeline()).isEqualTo(1);
    assertThat(cd.minRecoveryEnd()).isEqualTo(Lsn.ZERO);
  }

  @Test
  void parsesAReplicaShutDownInRecoveryOnALaterTimeline() throws IOException {
    String out = sample()
        .replace("Database cluster state:               shut down",
            "Database cluster state:               shut down in recovery")
        .replace("Latest checkpoint's TimeLineID:       1", "Latest checkpoint's TimeLineID:       3")
        .replace("Minimum recovery ending location:     0/0", "Minimum recovery ending location:     1/A0000028");

    PgControlData cd = PgControlData.parse(out);

    assertThat(cd.state()).isEqualTo(ControlState.SHUT_DOWN_IN_RECOVERY);
    assertThat(cd.checkpointTimeline()).isEqualTo(3);
    assertThat(cd.minRecoveryEnd()).isEqualTo(Lsn.parse("1/A0000028"));
  }

  @Test
  void missingFieldIsAnErrorNamingTheField() {
    assertThatThrownBy(() -> PgControlData.parse("Database cluster state: in production\n"))
        .isInstanceOf(PostgresCommandException.class)
        .hasMessageContaining("pg_controldata")
        .hasMessageContaining("Database system identifier");
  }
}
