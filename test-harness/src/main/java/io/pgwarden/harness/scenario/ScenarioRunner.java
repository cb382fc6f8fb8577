package io.pgwarden.harness.scenario;

import static org.awaitility.Awaitility.await;

import io.pgwarden.harness.cluster.TestCluster;
import io.pgwarden.harness.invariant.Checker;
import io.pgwarden.harness.invariant.Checker.CheckResult;
import io.pgwarden.harness.invariant.WritabilityProber;
import io.pgwarden.harness.workload.Workload;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Runs one {@link Scenario} on a fresh {@link TestCluster}: wait for a healthy cluster, start the
 * prober and the workload, inject the faults once part of the workload is acknowledged, let the script
 * heal them, await convergence (one primary, every other node streaming from it, steadily for a
 * whole ttl) within 2 x ttl + slack, let the workload finish, stop the prober and check. Every wait
 * is bounded; the cluster is torn down whatever happens, and its logs are kept under
 * target/cluster-logs/SCENARIO.
 */
public final class ScenarioRunner {
  /** Dynamic settings of every scenario: the harness's test timing plus the scenario's sync mode. */
  public static final int TTL_SECONDS = ((Number) TestCluster.TEST_TIMING.get("ttl")).intValue();

  private final Duration slack;

  /** @param slack added to 2 x ttl in every wait, for a slow shared machine */
  public ScenarioRunner(Duration slack) {
    this.slack = slack;
  }

  public ScenarioRunner() {
    this(Duration.ofSeconds(60));
  }

  public ScenarioResult run(Scenario s) {
    Map<String, Object> dynamic = new HashMap<>(TestCluster.TEST_TIMING);
    dynamic.put("synchronous_mode", s.mode().json());
    Duration ttl = Duration.ofSeconds(TTL_SECONDS);
    String mode = s.mode().json();
    try (TestCluster c = TestCluster.start(s.nodes(), dynamic)) {
      try {
        return runOn(c, s, ttl);
      } catch (Exception | AssertionError e) {
        StringWriter w = new StringWriter();
        e.printStackTrace(new PrintWriter(w));
        return new ScenarioResult(s.name(), mode, s.nodes(), Optional.empty(), Optional.empty(), List.of(), false,
            Optional.empty(), "", w.toString(), s.lossAllowed());
      } finally {
        c.saveLogs(s.name().replaceAll("[^A-Za-z0-9_.-]+", "-"));
      }
    }
  }

  private ScenarioResult runOn(TestCluster c, Scenario s, Duration ttl) throws Exception {
    await("healthy before the run").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).until(c::healthy);
    String primary = c.leader().orElseThrow();
    String mode = s.mode().json() + " (ssn='" + synchronousStandbyNames(c, primary) + "')";

    String user = c.local().state().superuser();
    String password = c.local().superuserPassword();
    Map<String, String> urls = new LinkedHashMap<>();
    c.nodes().forEach(n -> urls.put(n, c.local().jdbcUrl(n)));

    try (Workload workload = new Workload(c.local().jdbcUrl(), user, password, s.load());
        WritabilityProber prober = new WritabilityProber(urls, user, password)) {
      workload.createSchema();
      try (Connection pc = c.connect(primary)) {
        WritabilityProber.createSchema(pc);
      }
      // The replicas need the probe table before their probes can mean anything once promoted.
      for (String n : c.nodes()) {
        await(n + " has the schema").atMost(ttl.plus(slack)).ignoreExceptions()
            .until(() -> c.tryQuery(n, "SELECT count(*) FROM " + WritabilityProber.PROBE_TABLE).isPresent());
      }
      prober.start();
      workload.start();
      int before = (int) Math.ceil(s.faultAfter() * s.load().count());
      await(before + " ids acknowledged before the fault").atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(100)).until(() -> workload.acknowledgedCount() >= before);

      ScenarioContext ctx = new ScenarioContext(c, prober, workload, primary, ttl, slack);
      String error = null;
      try {
        s.script().run(ctx);
      } catch (Exception | AssertionError e) {
        // A script that could not finish (a wait timed out) still leaves a cluster worth checking:
        // the row keeps the error next to the evidence instead of replacing it.
        error = "fault script: " + e;
        prober.mark("fault script failed");
      }

      long healed = System.nanoTime();
      boolean converged;
      Optional<Duration> convergedAfter = Optional.empty();
      try {
        // Healthy for a whole ttl, not just once: right after a fault the keys of a dead or frozen agent
        // still look fine until its lease expires, so a single healthy read proves nothing.
        await("converged: one primary, all others streaming, for a whole ttl")
            .atMost(ttl.multipliedBy(3).plus(slack)).during(ttl).pollInterval(Duration.ofMillis(500))
            .until(c::healthy);
        converged = true;
        convergedAfter = Optional.of(Duration.ofNanos(System.nanoTime() - healed).minus(ttl));
        prober.mark("converged");
      } catch (ConditionTimeoutException e) {
        converged = false;
      }

      workload.awaitDone(Duration.ofSeconds(30));
      prober.mark("workload done");
      prober.close();

      Optional<String> checkOn = c.leader();
      Optional<CheckResult> check = Optional.empty();
      if (checkOn.isPresent()) {
        List<String> replicas = c.nodes().stream().filter(n -> !n.equals(checkOn.get())).toList();
        check = Optional.of(new Checker(c::connect, ttl.plus(slack)).check(workload.records(), checkOn.get(), replicas));
      } else {
        error = (error == null ? "" : error + "; ") + "no leader to check against";
      }
      Optional<Duration> failover = ctx.firstFaultNanos().flatMap(prober::failoverTime);
      return new ScenarioResult(s.name(), mode, s.nodes(), failover, check, prober.overlaps(), converged,
          convergedAfter, prober.timeline(), error, s.lossAllowed());
    }
  }

  /** What the primary really runs with, so the table cannot claim a synchronous run that was not. */
  private static String synchronousStandbyNames(TestCluster c, String primary) {
    try (Connection conn = c.connect(primary); Statement st = conn.createStatement();
        ResultSet rs = st.executeQuery("SHOW synchronous_standby_names")) {
      return rs.next() ? rs.getString(1) : "?";
    } catch (Exception e) {
      return "?";
    }
  }
}
