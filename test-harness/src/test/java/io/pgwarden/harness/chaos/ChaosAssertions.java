package io.pgwarden.harness.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.common.model.SynchronousMode;
import io.pgwarden.harness.scenario.Report;
import io.pgwarden.harness.scenario.Scenario;
import io.pgwarden.harness.scenario.ScenarioResult;
import io.pgwarden.harness.scenario.ScenarioRunner;
import io.pgwarden.harness.workload.Workload;
import java.util.List;
import java.util.function.BiFunction;

/** Runs one scenario at CI size and asserts the safety invariants, printing the row and its evidence. */
final class ChaosAssertions {
  private ChaosAssertions() {}

  static ScenarioResult runAndAssertSafe(BiFunction<SynchronousMode, Workload.Options, Scenario> scenario) {
    ScenarioResult r = new ScenarioRunner().run(scenario.apply(SynchronousMode.ON, Workload.Options.CI));
    System.out.println(Report.markdown(List.of(r)));
    System.out.println(r.summary());
    assertThat(r.error()).as("scenario error").isNull();
    assertThat(r.check()).as("checked").isPresent();
    assertThat(r.check().get().lost()).as("acknowledged ids lost").isEmpty();
    assertThat(r.check().get().duplicates()).as("duplicate ids").isEmpty();
    assertThat(r.check().get().unexpected()).as("ids present that no client could have committed").isEmpty();
    assertThat(r.overlaps()).as("two nodes writable at once").isEmpty();
    assertThat(r.converged()).as("converged within 2 x ttl + slack").isTrue();
    assertThat(r.check().get().replicasConsistent()).as("replicas hold the primary's rows").isTrue();
    return r;
  }
}
