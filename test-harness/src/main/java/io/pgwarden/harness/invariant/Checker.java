package io.pgwarden.harness.invariant;

import static org.awaitility.Awaitility.await;

import io.pgwarden.harness.workload.Workload;
import io.pgwarden.harness.workload.Workload.IdRecord;
import io.pgwarden.harness.workload.Workload.Outcome;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The Jepsen-style end-of-run check of the workload's table against what the clients were told.
 * Read on the primary: every acknowledged id present exactly once; no id present that was never
 * attempted or that was refused on every attempt; what became of the indeterminate ids; then every
 * replica, once caught up (bounded wait), holds exactly the primary's ids.
 */
public final class Checker {

  /** Opens a session to one node by name. */
  @FunctionalInterface
  public interface NodeConnector {
    Connection connect(String node) throws SQLException;
  }

  /**
   * @param acknowledgedAfterIndeterminate acknowledged by a retry after an attempt that may have landed
   * @param lost acknowledged ids missing on the primary
   * @param duplicates ids inserted fresh by two surviving transactions (two landing rows)
   * @param unexpected ids present that no client attempted, or that every attempt was refused
   * @param replicaMismatch per replica, a short description of how it differs (empty when consistent)
   */
  public record CheckResult(int acknowledged, int acknowledgedAfterIndeterminate, int failed, int indeterminate, int indeterminateLanded,
      int indeterminateNotLanded, int notAttempted, List<Integer> lost, List<Integer> duplicates,
      List<Integer> unexpected, boolean replicasConsistent, Map<String, String> replicaMismatch, int rowsOnPrimary) {

    public boolean ok() {
      return lost.isEmpty() && duplicates.isEmpty() && unexpected.isEmpty() && replicasConsistent;
    }

    @Override
    public String toString() {
      return "acknowledged=" + acknowledged + " (" + acknowledgedAfterIndeterminate + " after an indeterminate attempt)"
          + " lost=" + lost.size() + sample(lost)
          + " indeterminate=" + indeterminate + " (landed " + indeterminateLanded + ", not landed "
          + indeterminateNotLanded + ") failed=" + failed + " notAttempted=" + notAttempted
          + " duplicates=" + duplicates.size() + sample(duplicates) + " unexpected=" + unexpected.size()
          + sample(unexpected) + " rowsOnPrimary=" + rowsOnPrimary + " replicasConsistent=" + replicasConsistent
          + (replicaMismatch.isEmpty() ? "" : " " + replicaMismatch);
    }

    private static String sample(List<Integer> ids) {
      return ids.isEmpty() ? "" : " " + ids.subList(0, Math.min(10, ids.size())) + (ids.size() > 10 ? "..." : "");
    }
  }

  private final NodeConnector connector;
  private final Duration replicaCatchUp;

  public Checker(NodeConnector connector, Duration replicaCatchUp) {
    this.connector = connector;
    this.replicaCatchUp = replicaCatchUp;
  }

  public CheckResult check(Map<Integer, IdRecord> records, String primary, List<String> replicas) throws SQLException {
    TreeSet<Integer> onPrimary = ids(primary);
    List<Integer> duplicates = duplicateLandings(primary);

    int ackedAfterIndeterminate = 0;
    int acked = 0, failed = 0, indeterminate = 0, landed = 0, notLanded = 0, notAttempted = 0;
    List<Integer> lost = new ArrayList<>();
    List<Integer> unexpected = new ArrayList<>();
    for (IdRecord r : records.values()) {
      boolean present = onPrimary.contains(r.id());
      switch (r.outcome()) {
        case ACKNOWLEDGED -> {
          acked++;
          if (r.hadIndeterminateAttempt()) {
            ackedAfterIndeterminate++;
          }
          if (!present) {
            lost.add(r.id());
          }
        }
        case INDETERMINATE -> {
          indeterminate++;
          if (present) {
            landed++;
          } else {
            notLanded++;
          }
        }
        case FAILED -> {
          failed++;
          // Every attempt was refused before it could commit: a row here means the client was lied to.
          if (present) {
            unexpected.add(r.id());
          }
        }
        case NOT_ATTEMPTED -> {
          notAttempted++;
          if (present) {
            unexpected.add(r.id());
          }
        }
      }
    }
    for (int id : onPrimary) {
      if (!records.containsKey(id)) {
        unexpected.add(id);
      }
    }

    Map<String, String> mismatch = new TreeMap<>();
    for (String replica : replicas) {
      describeMismatchAfterCatchUp(replica, onPrimary).ifPresent(m -> mismatch.put(replica, m));
    }
    return new CheckResult(acked, ackedAfterIndeterminate, failed, indeterminate, landed, notLanded, notAttempted, List.copyOf(lost),
        duplicates, List.copyOf(unexpected), mismatch.isEmpty(), mismatch, onPrimary.size());
  }

  private java.util.Optional<String> describeMismatchAfterCatchUp(String replica, Set<Integer> expected) {
    AtomicReference<TreeSet<Integer>> last = new AtomicReference<>();
    try {
      await(replica + " holds the primary's rows").atMost(replicaCatchUp).pollInterval(Duration.ofMillis(500))
          .ignoreExceptions().until(() -> {
            TreeSet<Integer> got = ids(replica);
            last.set(got);
            return got.equals(expected);
          });
      return java.util.Optional.empty();
    } catch (ConditionTimeoutException e) {
      TreeSet<Integer> got = last.get();
      if (got == null) {
        return java.util.Optional.of("unreadable for " + replicaCatchUp.toSeconds() + " s");
      }
      TreeSet<Integer> missing = new TreeSet<>(expected);
      missing.removeAll(got);
      TreeSet<Integer> extra = new TreeSet<>(got);
      extra.removeAll(expected);
      return java.util.Optional.of("missing " + missing.size() + " " + head(missing) + ", extra " + extra.size() + " "
          + head(extra));
    }
  }

  private static String head(TreeSet<Integer> s) {
    return s.stream().limit(10).toList().toString();
  }

  private TreeSet<Integer> ids(String node) throws SQLException {
    TreeSet<Integer> out = new TreeSet<>();
    try (Connection c = connector.connect(node); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT id FROM " + Workload.TABLE)) {
      while (rs.next()) {
        out.add(rs.getInt(1));
      }
    }
    return out;
  }

  private List<Integer> duplicateLandings(String node) throws SQLException {
    List<Integer> out = new ArrayList<>();
    try (Connection c = connector.connect(node); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT id FROM " + Workload.LANDINGS
            + " GROUP BY id HAVING count(*) > 1 ORDER BY id")) {
      while (rs.next()) {
        out.add(rs.getInt(1));
      }
    }
    return out;
  }

  /** The checker's view of outcomes, for callers that only want counts. */
  public static Map<Outcome, Long> tally(Map<Integer, IdRecord> records) {
    Map<Outcome, Long> out = new TreeMap<>();
    records.values().forEach(r -> out.merge(r.outcome(), 1L, Long::sum));
    return out;
  }
}
