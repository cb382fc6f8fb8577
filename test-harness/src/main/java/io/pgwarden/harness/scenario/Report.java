package io.pgwarden.harness.scenario;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The chaos table in Markdown, as the issue and docs/ want it. */
public final class Report {
  private Report() {}

  public static String markdown(List<ScenarioResult> rows) {
    StringBuilder b = new StringBuilder();
    b.append("| scenario | mode | nodes | failover ms | acknowledged | lost | indeterminate (landed) | failed |"
        + " duplicates | unexpected | overlap | converged | result |\n");
    b.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |\n");
    for (ScenarioResult r : rows) {
      b.append("| ").append(r.scenario()).append(" | ").append(r.mode()).append(" | ").append(r.nodes()).append(" | ")
          .append(r.failover().map(d -> Long.toString(d.toMillis())).orElse("-")).append(" | ");
      if (r.check().isPresent()) {
        var c = r.check().get();
        b.append(c.acknowledged()).append(" | ").append(c.lost().size()).append(" | ").append(c.indeterminate())
            .append(" (").append(c.indeterminateLanded()).append(") | ").append(c.failed()).append(" | ")
            .append(c.duplicates().size()).append(" | ").append(c.unexpected().size()).append(" | ");
      } else {
        b.append("? | ? | ? | ? | ? | ? | ");
      }
      b.append(r.overlaps().isEmpty() ? "no" : "YES (" + r.overlaps().size() + ")").append(" | ")
          .append(r.converged() ? "yes" : "NO").append(" | ").append(r.verdict()).append(" |\n");
    }
    return b.toString();
  }

  /** Median of the measured failover times; empty when none was measured. */
  public static Optional<Duration> medianFailover(List<ScenarioResult> rows) {
    List<Duration> d = rows.stream().flatMap(r -> r.failover().stream()).sorted().toList();
    if (d.isEmpty()) {
      return Optional.empty();
    }
    int n = d.size();
    return Optional.of(n % 2 == 1 ? d.get(n / 2) : d.get(n / 2 - 1).plus(d.get(n / 2)).dividedBy(2));
  }
}
