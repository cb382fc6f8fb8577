package io.pgwarden.harness.workload;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WorkloadClassificationTest {
  @ParameterizedTest(name = "SQLState {0} -> definitely not committed: {1}")
  @CsvSource({
      "25006, true",   // read-only: a replica or a fenced primary refused the statement
      "23505, true",
      "42P01, true",
      "40001, true",
      "57P03, true",   // cannot connect now: nothing ran
      "08006, false",  // connection failure: the commit may have happened before the socket broke
      "08003, false",
      "57P01, false",  // admin shutdown may terminate the backend after its commit record
      "XX000, false",
  })
  void errorsAreDefiniteOnlyWhenTheServerRejectedTheStatementBeforeCommit(String state, boolean definite) {
    assertThat(Workload.definitelyNotCommitted(new SQLException("x", state))).isEqualTo(definite);
  }

  @org.junit.jupiter.api.Test
  void anErrorWithoutSqlStateIsIndeterminate() {
    assertThat(Workload.definitelyNotCommitted(new SQLException("socket timeout"))).isFalse();
  }
}
