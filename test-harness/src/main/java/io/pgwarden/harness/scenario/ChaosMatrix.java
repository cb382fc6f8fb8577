package io.pgwarden.harness.scenario;

import io.pgwarden.common.model.SynchronousMode;
import io.pgwarden.harness.workload.Workload;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the chaos matrix and prints the Markdown table: every scenario of {@link Scenarios#all} in
 * synchronous mode (on) and in asynchronous mode (off), then the power-off scenario repeated for a median
 * failover time. Asynchronous rows (and the operator's forced lossy failover) may lose acknowledged ids:
 * the table counts them and marks the row "pass (N lost, allowed)"; only a synchronous-mode row that
 * broke an invariant makes the run fail.
 *
 * <pre>
 * java -Dpgwarden.jar=agent/target/pgwarden-agent-VERSION-all.jar -cp CLASSPATH \
 *   io.pgwarden.harness.scenario.ChaosMatrix [--ci] [--runs N] [--modes on,off] [--only SUBSTRING]
 * </pre>
 * {@code --ci} uses the short workload (600 ids, 20 workers) instead of the seed's 3000 x 30.
 */
public final class ChaosMatrix {
  private ChaosMatrix() {}

  /** Parsed command line; defaults are the full matrix. */
  public record Options(Workload.Options load, int powerOffRuns, List<SynchronousMode> modes, String only) {
    public static Options parse(String... args) {
      Workload.Options load = Workload.Options.SEED;
      int runs = 5;
      List<SynchronousMode> modes = List.of(SynchronousMode.ON, SynchronousMode.OFF);
      String only = "";
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--ci" -> load = Workload.Options.CI;
          case "--runs" -> runs = Integer.parseInt(value(args, ++i, "--runs"));
          case "--modes" -> modes = java.util.Arrays.stream(value(args, ++i, "--modes").split(","))
              .map(SynchronousMode::parse).toList();
          case "--only" -> only = value(args, ++i, "--only");
          default -> throw new IllegalArgumentException("unknown argument '" + args[i]
              + "'; usage: ChaosMatrix [--ci] [--runs N] [--modes on,off] [--only SUBSTRING]");
        }
      }
      return new Options(load, runs, modes, only);
    }

    private static String value(String[] args, int i, String flag) {
      if (i >= args.length) {
        throw new IllegalArgumentException(flag + " needs a value");
      }
      return args[i];
    }
  }

  /** The table and the median, as printed. */
  public record Outcome(List<ScenarioResult> rows, List<ScenarioResult> powerOffRuns, String text) {
    public boolean syncModeSafe() {
      return rows.stream().filter(r -> r.mode().startsWith("on")).allMatch(ScenarioResult::passed)
          && powerOffRuns.stream().filter(r -> r.mode().startsWith("on")).allMatch(ScenarioResult::passed);
    }
  }

  public static Outcome run(Options o) {
    ScenarioRunner runner = new ScenarioRunner();
    List<ScenarioResult> rows = new ArrayList<>();
    for (SynchronousMode mode : o.modes()) {
      for (Scenario s : Scenarios.all(mode, o.load())) {
        if (!s.name().contains(o.only())) {
          continue;
        }
        ScenarioResult r = runner.run(s);
        System.out.println(r.summary());
        rows.add(r);
      }
    }
    List<ScenarioResult> powerOff = new ArrayList<>();
    SynchronousMode first = o.modes().get(0);
    for (int i = 0; i < o.powerOffRuns(); i++) {
      ScenarioResult r = runner.run(Scenarios.powerOffPrimary(first, o.load()));
      System.out.println("power-off run " + (i + 1) + ": " + r.summary());
      powerOff.add(r);
    }
    StringBuilder text = new StringBuilder(Report.markdown(rows));
    if (!powerOff.isEmpty()) {
      text.append("\nPower-off failover over ").append(powerOff.size()).append(" runs (").append(first.json())
          .append("): ").append(powerOff.stream().map(r -> r.failover().map(d -> d.toMillis() + "").orElse("-")).toList())
          .append(" ms, median ").append(Report.medianFailover(powerOff).map(d -> d.toMillis() + " ms").orElse("-"))
          .append("\n\n").append(Report.markdown(powerOff));
    }
    return new Outcome(rows, powerOff, text.toString());
  }

  public static void main(String[] args) {
    Outcome out = run(Options.parse(args));
    System.out.println(out.text());
    System.exit(out.syncModeSafe() ? 0 : 1);
  }
}
