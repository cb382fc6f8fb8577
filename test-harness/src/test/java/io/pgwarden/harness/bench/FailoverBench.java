package io.pgwarden.harness.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Not part of the default build: {@code mvn -B -ntp verify -Pbench -pl test-harness -am}. Prints the
 * power-off failover gap at pgwarden's defaults and in the fast profile, and writes
 * target/bench/failover.{json,md}. Runs: -Dbench.runs=N (default 5).
 */
class FailoverBench {
  @Test
  void powerOffFailoverGap() throws Exception {
    int runs = Integer.getInteger("bench.runs", 5);
    List<FailoverBenchmark.Result> results = List.of(
        FailoverBenchmark.run(runs, 3, Map.of(), "defaults (ttl 10, loop_wait 2, retry_timeout 4)"),
        FailoverBenchmark.run(runs, 3, FastProfile.current().config(),
            "fast profile (" + FastProfile.current().label() + ")"));
    System.out.println(FailoverBenchmark.markdown(results));
    FailoverBenchmark.write(Path.of("target", "bench"), "failover", results);
    // Safety, not speed: synchronous mode (the default) must not lose an acknowledged row.
    assertThat(results).allSatisfy(r -> assertThat(r.lost()).isZero());
  }
}
