package io.pgwarden.harness.docker;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Samples the writability of every node while a scenario runs: every 300 ms a round sends one INSERT
 * with a unique id to each node at the same moment, from the host. A node is writable in a round when
 * its INSERT is acknowledged (synchronous commit included), so the samples are also the writes whose
 * loss the scenario checks.
 *
 * <p>Split brain shows up in two ways: two nodes acknowledging in the same round, or a node
 * acknowledging again after another node took over (one scenario never has two failovers).
 */
final class WriteProbe implements AutoCloseable {
  static final String TABLE = "probe";

  /** An acknowledged write: id, node, round, and when it was sent and acknowledged (System.nanoTime). */
  record Ack(long id, String node, long round, long sentNanos, long ackedNanos) {}

  private final DockerCluster cluster;
  private final List<Ack> acks = new CopyOnWriteArrayList<>();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final ExecutorService pool;
  private final Thread loop;
  private final Map<String, Connection> connections = new HashMap<>();

  WriteProbe(DockerCluster cluster, long firstRound) {
    this.cluster = cluster;
    this.pool = Executors.newFixedThreadPool(cluster.nodes().size());
    this.loop = new Thread(() -> run(firstRound), "write-probe");
    loop.setDaemon(true);
    loop.start();
  }

  static void createTable(DockerCluster cluster, String primary) throws SQLException {
    try (Connection c = cluster.connect(primary); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS " + TABLE
          + " (id bigint NOT NULL, node text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())");
    }
  }

  private void run(long firstRound) {
    List<String> nodes = cluster.nodes();
    for (long round = firstRound; running.get(); round++) {
      long start = System.nanoTime();
      List<Future<?>> sent = new ArrayList<>();
      for (int i = 0; i < nodes.size(); i++) {
        String node = nodes.get(i);
        long id = round * 10 + i;
        long r = round;
        sent.add(pool.submit(() -> write(node, id, r)));
      }
      for (Future<?> f : sent) {
        try {
          f.get(10, TimeUnit.SECONDS); // connect (2 s) + socket (3 s) timeouts bound every write
        } catch (Exception e) {
          f.cancel(true);
        }
      }
      // Pacing of the sampler, not synchronisation: the next round starts 300 ms after this one did.
      LockSupport.parkNanos(start + TimeUnit.MILLISECONDS.toNanos(300) - System.nanoTime());
    }
  }

  private void write(String node, long id, long round) {
    long sent = System.nanoTime();
    try {
      Connection c;
      synchronized (connections) {
        c = connections.get(node);
      }
      if (c == null) {
        c = cluster.connect(node);
        synchronized (connections) {
          connections.put(node, c);
        }
      }
      try (Statement st = c.createStatement()) {
        st.executeUpdate("INSERT INTO " + TABLE + " (id, node) VALUES (" + id + ", '" + node + "')");
      }
      acks.add(new Ack(id, node, round, sent, System.nanoTime()));
    } catch (SQLException e) {
      Connection broken;
      synchronized (connections) {
        broken = connections.remove(node);
      }
      if (broken != null) {
        try {
          broken.close();
        } catch (SQLException ignored) {
          // already broken
        }
      }
    }
  }

  List<Ack> acks() {
    return List.copyOf(acks);
  }

  /** Acknowledged writes on {@code node} whose acknowledgement came at or after {@code nanos}. */
  List<Ack> acksOnAfter(String node, long nanos) {
    return acks.stream().filter(a -> a.node().equals(node) && a.ackedNanos() - nanos >= 0).toList();
  }

  /** The last round this probe ran, so the next probe continues with fresh ids. */
  long lastRound() {
    return acks.stream().mapToLong(Ack::round).max().orElse(0);
  }

  /** No round with two writable nodes, and no node writable again once another one was. */
  void assertNeverTwoWritable() {
    TreeMap<Long, Set<String>> byRound = new TreeMap<>();
    for (Ack a : acks) {
      byRound.computeIfAbsent(a.round(), r -> new HashSet<>()).add(a.node());
    }
    List<String> writers = new ArrayList<>();
    byRound.forEach((round, nodes) -> {
      assertThat(nodes).as("nodes acknowledging writes in round %d", round).hasSizeLessThanOrEqualTo(1);
      String node = nodes.iterator().next();
      if (writers.isEmpty() || !writers.get(writers.size() - 1).equals(node)) {
        writers.add(node);
      }
    });
    assertThat(writers).as("the succession of writable nodes (a node may not come back within one scenario)")
        .doesNotHaveDuplicates();
  }

  /** Every acknowledged write is on {@code node} (run once the cluster converged). */
  void assertAllAcknowledgedOn(String node) {
    Set<Long> present = new HashSet<>();
    try (Connection c = cluster.connect(node); Statement st = c.createStatement();
        var rs = st.executeQuery("SELECT id FROM " + TABLE)) {
      while (rs.next()) {
        present.add(rs.getLong(1));
      }
    } catch (SQLException e) {
      throw new AssertionError("cannot read " + TABLE + " on " + node, e);
    }
    List<Long> lost = acks.stream().map(Ack::id).filter(id -> !present.contains(id)).toList();
    assertThat(lost).as("acknowledged writes missing on %s (of %d acknowledged)", node, acks.size()).isEmpty();
  }

  @Override
  public void close() throws InterruptedException {
    running.set(false);
    loop.join(TimeUnit.SECONDS.toMillis(30));
    pool.shutdownNow();
    pool.awaitTermination(10, TimeUnit.SECONDS);
    synchronized (connections) {
      for (Connection c : connections.values()) {
        try {
          c.close();
        } catch (SQLException ignored) {
          // closing a broken connection
        }
      }
      connections.clear();
    }
  }
}
