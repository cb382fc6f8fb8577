package io.pgwarden.harness.invariant;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Samples every node on its own thread about every 50 ms: does a tiny write to a dedicated probe table
 * commit right now? (An INSERT that commits is the definition of "accepts writes": a replica or a
 * read-only, fenced primary refuses it.) Runs of successes become per-node writable intervals, and two
 * intervals of different nodes that overlap in time are a split brain.
 *
 * <p>Intervals are conservative for safety: one starts when the first successful probe of a run was
 * <i>sent</i> and ends when the last one's commit <i>returned</i>, so any instant at which the node may
 * have committed is inside. A single failed sample inside a run does not end it (it would only shorten
 * the interval and could hide an overlap); two in a row do. All times are System.nanoTime of this JVM.
 * What sampling cannot see: a node that is writable only between two samples of ~50 ms.
 */
public final class WritabilityProber implements AutoCloseable {

  /** One node's writable period; nanoTime bounds. */
  public record Interval(String node, long startNanos, long endNanos, int samples) {
    public boolean overlaps(Interval o) {
      return startNanos - o.endNanos <= 0 && o.startNanos - endNanos <= 0;
    }
  }

  /** Two nodes writable at once. */
  public record Overlap(Interval a, Interval b) {
    @Override
    public String toString() {
      long ms = (Math.min(a.endNanos, b.endNanos) - Math.max(a.startNanos, b.startNanos)) / 1_000_000;
      return a.node + " and " + b.node + " both writable for ~" + ms + " ms";
    }
  }

  public static final String PROBE_TABLE = "pgwarden_writability";
  private static final Duration PERIOD = Duration.ofMillis(50);
  private static final int MISSES_TO_END_RUN = 2;

  private final Map<String, String> urls;
  private final Properties props;
  private final long originNanos = System.nanoTime();
  private final ScheduledExecutorService scheduler;
  private final Map<String, NodeProbe> probes = new LinkedHashMap<>();
  private final Map<String, Long> marks = new ConcurrentHashMap<>();

  /** @param urls node name to single-host JDBC URL */
  public WritabilityProber(Map<String, String> urls, String user, String password) {
    this.urls = Map.copyOf(urls);
    props = new Properties();
    props.setProperty("user", user);
    props.setProperty("password", password);
    // Short: a frozen or dead node must show up as "not writable" within about a second.
    props.setProperty("connectTimeout", "1");
    props.setProperty("loginTimeout", "2");
    props.setProperty("socketTimeout", "1");
    scheduler = Executors.newScheduledThreadPool(urls.size(), r -> {
      Thread t = new Thread(r, "writability-prober");
      t.setDaemon(true);
      return t;
    });
    urls.keySet().stream().sorted().forEach(n -> probes.put(n, new NodeProbe(n)));
  }

  /** Creates the probe table on the primary the multi-host URL finds. */
  public static void createSchema(Connection primary) throws SQLException {
    try (Statement st = primary.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS " + PROBE_TABLE + " (node text NOT NULL, at timestamptz NOT NULL)");
    }
  }

  public void start() {
    for (NodeProbe p : probes.values()) {
      scheduler.scheduleWithFixedDelay(p::sample, 0, PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** Records a named instant (a fault, a heal) and returns it. */
  public long mark(String event) {
    long now = System.nanoTime();
    marks.put(event, now);
    return now;
  }

  public Optional<Long> markOf(String event) {
    return Optional.ofNullable(marks.get(event));
  }

  /** Every node's intervals so far, ordered by start; an open run counts up to its last success. */
  public List<Interval> intervals() {
    List<Interval> all = new ArrayList<>();
    for (NodeProbe p : probes.values()) {
      all.addAll(p.snapshot());
    }
    all.sort(Comparator.comparingLong(i -> i.startNanos - originNanos));
    return all;
  }

  public List<Overlap> overlaps() {
    List<Interval> all = intervals();
    List<Overlap> out = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      for (int j = i + 1; j < all.size(); j++) {
        Interval a = all.get(i);
        Interval b = all.get(j);
        if (!a.node.equals(b.node) && a.overlaps(b)) {
          out.add(new Overlap(a, b));
        }
      }
    }
    return out;
  }

  /**
   * Failover time: from {@code faultNanos} to the start of the first writable run that began after it,
   * on any node. Empty when no run began after the fault (the primary never stopped being writable, or
   * nothing became writable again).
   */
  public Optional<Duration> failoverTime(long faultNanos) {
    return intervals().stream().filter(i -> i.startNanos - faultNanos > 0).findFirst()
        .map(i -> Duration.ofNanos(i.startNanos - faultNanos));
  }

  /** Whether {@code nanos} falls inside one of {@code node}'s writable intervals. */
  public boolean writableAt(String node, long nanos) {
    return intervals().stream().anyMatch(i -> i.node.equals(node) && i.startNanos - nanos <= 0 && nanos - i.endNanos <= 0);
  }

  /** Human-readable timeline relative to the prober's start, for reports and failure messages. */
  public String timeline() {
    StringBuilder b = new StringBuilder();
    for (Interval i : intervals()) {
      b.append(String.format("  %-6s writable %8.3f s .. %8.3f s (%d samples)%n", i.node,
          (i.startNanos - originNanos) / 1e9, (i.endNanos - originNanos) / 1e9, i.samples));
    }
    marks.entrySet().stream().sorted(Map.Entry.comparingByValue(Comparator.comparingLong(v -> v - originNanos)))
        .forEach(e -> b.append(String.format("  mark %-30s at %8.3f s%n", e.getKey(), (e.getValue() - originNanos) / 1e9)));
    return b.toString();
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
    try {
      scheduler.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    probes.values().forEach(NodeProbe::disconnect);
  }

  /** State of one node's sampling; touched only by its scheduled task, read under its lock. */
  private final class NodeProbe {
    private final String node;
    private final List<Interval> closed = new ArrayList<>();
    private Connection conn;
    private long runStart;
    private long runEnd;
    private int runSamples;
    private int misses;

    NodeProbe(String node) {
      this.node = node;
    }

    void sample() {
      long sent = System.nanoTime();
      boolean ok = tryWrite();
      long returned = System.nanoTime();
      synchronized (this) {
        if (ok) {
          if (runSamples == 0) {
            runStart = sent;
          }
          runEnd = returned;
          runSamples++;
          misses = 0;
        } else if (runSamples > 0 && ++misses >= MISSES_TO_END_RUN) {
          closed.add(new Interval(node, runStart, runEnd, runSamples));
          runSamples = 0;
          misses = 0;
        }
      }
    }

    private boolean tryWrite() {
      try {
        if (conn == null) {
          conn = DriverManager.getConnection(urls.get(node), props);
        }
        try (Statement st = conn.createStatement()) {
          st.executeUpdate("INSERT INTO " + PROBE_TABLE + " VALUES ('" + node + "', clock_timestamp())");
        }
        return true;
      } catch (SQLException e) {
        // A read-only refusal leaves the session usable (and it turns writable after a promotion);
        // reconnecting 20 times a second to every replica would only load the machine. Any other
        // error may have broken the session, so the next sample starts a fresh one.
        if (!"25006".equals(e.getSQLState())) {
          disconnect();
        }
        return false;
      }
    }

    void disconnect() {
      if (conn != null) {
        try {
          conn.close();
        } catch (SQLException ignored) {
          // The server is gone; nothing to release.
        }
        conn = null;
      }
    }

    synchronized List<Interval> snapshot() {
      List<Interval> out = new ArrayList<>(closed);
      if (runSamples > 0) {
        out.add(new Interval(node, runStart, runEnd, runSamples));
      }
      return out;
    }
  }
}
