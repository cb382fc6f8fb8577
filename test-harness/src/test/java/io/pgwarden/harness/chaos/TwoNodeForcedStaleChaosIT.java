package io.pgwarden.harness.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.common.model.SynchronousMode;
import io.pgwarden.harness.scenario.Report;
import io.pgwarden.harness.scenario.ScenarioResult;
import io.pgwarden.harness.scenario.ScenarioRunner;
import io.pgwarden.harness.scenario.Scenarios;
import io.pgwarden.harness.workload.Workload;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The seed's two nodes: the operator forces the stale A with --allow-data-loss. Losses are the
 * operator's choice here, so they are counted, not forbidden; everything else holds, and B, whose
 * diverged timeline shares its number with A's new one, rejoins by a clone (docs/chaos.md).
 */
@Tag("chaos")
class TwoNodeForcedStaleChaosIT {
  @Test
  void anOperatorMayForceAStaleNodeAndHistoryRecordsTheLoss() {
    ScenarioResult r = new ScenarioRunner().run(Scenarios.twoNodeForcedStale(SynchronousMode.ON, Workload.Options.CI));
    System.out.println(Report.markdown(List.of(r)));
    System.out.println(r.summary());
    assertThat(r.error()).as("scenario error").isNull();
    assertThat(r.check()).as("checked").isPresent();
    System.out.println("acknowledged ids lost by the forced failover: " + r.check().get().lost().size());
    assertThat(r.check().get().unexpected()).as("ids present that no client could have committed").isEmpty();
    assertThat(r.check().get().duplicates()).as("duplicate ids").isEmpty();
    assertThat(r.overlaps()).as("two nodes writable at once").isEmpty();
    assertThat(r.converged()).as("converged").isTrue();
    assertThat(r.check().get().replicasConsistent()).as("replicas hold the primary's rows").isTrue();
  }
}
