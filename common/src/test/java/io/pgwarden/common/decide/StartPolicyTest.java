package io.pgwarden.common.decide;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.common.decide.Action.StartMode;
import io.pgwarden.common.decide.StartPolicy.OnRunning;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class StartPolicyTest {
  /** One row: the role asked for, what the running server answers, and what the start does. */
  record Row(StartMode mode, boolean answering, boolean inRecovery, OnRunning outcome) {
    @Override
    public String toString() {
      return "asked " + mode + (answering ? ", answers as " + (inRecovery ? "replica" : "primary")
          : ", does not answer") + " -> " + outcome;
    }
  }

  static Stream<Row> rows() {
    return Stream.of(
        new Row(StartMode.PRIMARY, false, false, OnRunning.LEAVE_IT),
        new Row(StartMode.PRIMARY, false, true, OnRunning.LEAVE_IT),
        new Row(StartMode.REPLICA, false, false, OnRunning.LEAVE_IT),
        new Row(StartMode.REPLICA, false, true, OnRunning.LEAVE_IT),
        new Row(StartMode.PRIMARY, true, false, OnRunning.NOTHING),
        new Row(StartMode.REPLICA, true, true, OnRunning.FOLLOW),
        new Row(StartMode.PRIMARY, true, true, OnRunning.REFUSE),
        new Row(StartMode.REPLICA, true, false, OnRunning.REFUSE));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void onRunning(Row r) {
    assertThat(StartPolicy.onRunning(r.mode(), r.answering(), r.inRecovery())).isEqualTo(r.outcome());
  }

  @Test
  void refusalNamesTheRunningRoleAndTheAskedOne() {
    assertThat(StartPolicy.refusal(StartMode.PRIMARY, true))
        .isEqualTo("already running as replica, asked for PRIMARY; stop it first");
    assertThat(StartPolicy.refusal(StartMode.REPLICA, false))
        .isEqualTo("already running as primary, asked for REPLICA; stop it first");
  }
}
