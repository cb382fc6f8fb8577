package io.pgwarden.harness.bench;

import io.pgwarden.harness.cluster.TestCluster;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One writer inserting a row every {@code intervalMs} through the multi-host connection string,
 * reconnecting after any error; records the monotonic time of every acknowledged insert.
 */
public final class Writer implements AutoCloseable {
  public record Ack(long id, long nanos) {}

  /** Opens a connection to whichever node takes writes now (a multi-host URL). */
  @FunctionalInterface
  public interface PrimaryConnections {
    Connection connectPrimary() throws SQLException;
  }

  private final PrimaryConnections cluster;
  private final long intervalMs;
  private final List<Ack> acks = new ArrayList<>();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final Thread thread;

  public Writer(TestCluster cluster, long intervalMs) throws SQLException {
    this(cluster::connectPrimary, intervalMs);
  }

  public Writer(PrimaryConnections cluster, long intervalMs) throws SQLException {
    this.cluster = cluster;
    this.intervalMs = intervalMs;
    try (Connection c = cluster.connectPrimary(); java.sql.Statement st = c.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS bench_writes (id bigint PRIMARY KEY, at timestamptz)");
    }
    thread = new Thread(this::loop, "bench-writer");
    thread.setDaemon(true);
    thread.start();
  }

  private void loop() {
    long id = 0;
    Connection c = null;
    while (running.get()) {
      long next = System.nanoTime() + intervalMs * 1_000_000;
      try {
        if (c == null) {
          c = cluster.connectPrimary();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO bench_writes VALUES (?, now())")) {
          ps.setLong(1, ++id);
          ps.executeUpdate();
        }
        synchronized (acks) {
          acks.add(new Ack(id, System.nanoTime()));
        }
      } catch (SQLException e) {
        try {
          if (c != null) {
            c.close();
          }
        } catch (SQLException ignored) {
          // the connection is gone either way
        }
        c = null;
      }
      long wait = next - System.nanoTime();
      if (wait > 0) {
        try {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000)); // pacing the load, not synchronisation
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  public List<Ack> acks() {
    synchronized (acks) {
      return List.copyOf(acks);
    }
  }

  /** The write gap around {@code faultNanos}: last ack before it to first ack after it, in ms; -1 if none after. */
  public long gapMillis(long faultNanos) {
    OptionalLong before = lastAckAtOrBefore(faultNanos);
    OptionalLong after = firstAckAfter(faultNanos);
    if (before.isEmpty() || after.isEmpty()) {
      return -1;
    }
    return (after.getAsLong() - before.getAsLong()) / 1_000_000;
  }

  private OptionalLong lastAckAtOrBefore(long nanos) {
    return acks().stream().mapToLong(Ack::nanos).filter(n -> n <= nanos).max();
  }

  /** The {@link System#nanoTime()} of the first ack after {@code nanos}; empty if none. */
  public OptionalLong firstAckAfter(long nanos) {
    return acks().stream().mapToLong(Ack::nanos).filter(n -> n > nanos).min();
  }

  /**
   * The longest time without an acknowledged write between {@code fromNanos} and {@code toNanos}
   * (counting from the last ack before {@code fromNanos}), in ms: the write-unavailability gap of
   * something that happened somewhere in that window.
   */
  public long maxGapMillis(long fromNanos, long toNanos) {
    long prev = Long.MIN_VALUE;
    long max = 0;
    for (Ack a : acks()) {
      if (a.nanos() <= fromNanos) {
        prev = a.nanos();
        continue;
      }
      if (a.nanos() > toNanos) {
        if (prev != Long.MIN_VALUE) {
          max = Math.max(max, a.nanos() - prev);
        }
        break;
      }
      if (prev != Long.MIN_VALUE) {
        max = Math.max(max, a.nanos() - prev);
      }
      prev = a.nanos();
    }
    return max / 1_000_000;
  }

  /** Milliseconds from the last ack at or before {@code nanos} to it; -1 if none. */
  public long millisBefore(long nanos) {
    OptionalLong before = lastAckAtOrBefore(nanos);
    return before.isEmpty() ? -1 : (nanos - before.getAsLong()) / 1_000_000;
  }

  /** Milliseconds from {@code nanos} to the first ack after it; -1 if none. */
  public long millisAfter(long nanos) {
    OptionalLong after = firstAckAfter(nanos);
    return after.isEmpty() ? -1 : (after.getAsLong() - nanos) / 1_000_000;
  }

  public boolean ackedAfter(long nanos) {
    return acks().stream().anyMatch(a -> a.nanos() > nanos);
  }

  @Override
  public void close() {
    running.set(false);
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
