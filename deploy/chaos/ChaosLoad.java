import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The seed's load test, with the bookkeeping the seed never did. Run as a single-file program with
 * the agent's jar (it carries the PostgreSQL driver) on the class path:
 *
 * <pre>
 *   java -cp agent/target/pgwarden-agent-*-all.jar deploy/chaos/ChaosLoad.java load  HOST PORT TOTAL WORKERS OUTDIR DEADLINE_S
 *   java -cp agent/target/pgwarden-agent-*-all.jar deploy/chaos/ChaosLoad.java check HOST PORT OUTDIR
 * </pre>
 *
 * The password comes from PGPASSWORD, the user from PGUSER (default postgres).
 *
 * <p>load: TOTAL INSERTs into {@code guestbook}, each id exactly once by the client, from WORKERS
 * threads; before each id a random 0-2 s think time (the seed's "random delay"), then attempts until
 * one is acknowledged (COMMIT returned) or the deadline passes. Every attempt ends as
 * <b>acknowledged</b>, <b>failed</b> (certainly not committed: no connection, or the server refused
 * it, e.g. a read-only replica) or <b>indeterminate</b> (the connection broke while the INSERT was in
 * flight: it may or may not have committed, and a retry may then duplicate it). The table has no
 * unique key on purpose, so such duplicates stay visible instead of being hidden by a constraint.
 * Writes OUTDIR/acks.tsv (id, ack time in epoch ms, failed attempts, indeterminate attempts, the
 * address of the server that acknowledged it) and keeps
 * OUTDIR/progress (the number acknowledged so far) current for the script that injects the faults.
 *
 * <p>check: reads every row back through HOST:PORT and prints acknowledged, lost (acknowledged but
 * absent), duplicates (ids present more than once) and unexpected rows; exits 1 on any loss.
 */
public class ChaosLoad {
  public static void main(String[] args) throws Exception {
    if (args.length == 7 && args[0].equals("load")) {
      System.exit(load(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]),
          Path.of(args[5]), Integer.parseInt(args[6])));
    } else if (args.length == 4 && args[0].equals("check")) {
      System.exit(check(args[1], Integer.parseInt(args[2]), Path.of(args[3])));
    }
    System.err.println("usage: ChaosLoad load HOST PORT TOTAL WORKERS OUTDIR DEADLINE_S | check HOST PORT OUTDIR");
    System.exit(2);
  }

  static Connection connect(String host, int port) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", System.getenv().getOrDefault("PGUSER", "postgres"));
    p.setProperty("password", System.getenv().getOrDefault("PGPASSWORD", ""));
    p.setProperty("connectTimeout", "3");
    // Bounds an INSERT that hangs, e.g. on a primary waiting for a synchronous standby that is gone.
    p.setProperty("socketTimeout", "15");
    p.setProperty("ApplicationName", "pgwarden-chaos");
    return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/postgres", p);
  }

  /** SQLSTATEs that prove the server refused the statement, so it cannot have committed. */
  static boolean certainlyNotCommitted(SQLException e) {
    String s = e.getSQLState();
    return s != null && (s.startsWith("25") /* read_only_sql_transaction */ || s.startsWith("42")
        || s.equals("57P03") /* cannot_connect_now */ || s.equals("53300") /* too_many_connections */);
  }

  static int load(String host, int port, int total, int workers, Path out, int deadlineSeconds) throws Exception {
    Files.createDirectories(out);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(deadlineSeconds);
    while (true) {
      try (Connection c = connect(host, port); Statement st = c.createStatement()) {
        st.execute("CREATE TABLE IF NOT EXISTS guestbook (id int NOT NULL, worker int NOT NULL,"
            + " at timestamptz NOT NULL DEFAULT clock_timestamp())");
        break;
      } catch (SQLException e) {
        if (System.nanoTime() - deadline > 0) throw e;
        TimeUnit.MILLISECONDS.sleep(500); // think time of a client retrying, not test synchronisation
      }
    }
    AtomicInteger next = new AtomicInteger(1);
    AtomicInteger acked = new AtomicInteger();
    AtomicLongArray ackAt = new AtomicLongArray(total + 1);
    AtomicReferenceArray<String> ackedBy = new AtomicReferenceArray<>(total + 1);
    AtomicIntegerArray failed = new AtomicIntegerArray(total + 1);
    AtomicIntegerArray indeterminate = new AtomicIntegerArray(total + 1);
    List<Thread> threads = new ArrayList<>();
    for (int w = 1; w <= workers; w++) {
      int worker = w;
      Thread t = new Thread(() -> {
        Connection conn = null;
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        try {
          for (int id = next.getAndIncrement(); id <= total; id = next.getAndIncrement()) {
            TimeUnit.MILLISECONDS.sleep(rnd.nextInt(2001)); // the seed's random 0-2 s delay per insert
            while (System.nanoTime() - deadline < 0) {
              boolean sent = false;
              try {
                if (conn == null) conn = connect(host, port);
                String server;
                try (Statement st = conn.createStatement()) {
                  sent = true;
                  try (ResultSet rs = st.executeQuery("INSERT INTO guestbook (id, worker) VALUES (" + id + ", "
                      + worker + ") RETURNING host(inet_server_addr())")) {
                    rs.next();
                    server = rs.getString(1);
                  }
                }
                ackAt.set(id, System.currentTimeMillis());
                ackedBy.set(id, server);
                acked.incrementAndGet();
                break;
              } catch (SQLException e) {
                if (sent && !certainlyNotCommitted(e)) indeterminate.incrementAndGet(id);
                else failed.incrementAndGet(id);
                closeQuietly(conn);
                conn = null;
                TimeUnit.MILLISECONDS.sleep(200 + rnd.nextInt(300)); // client back-off before the retry
              }
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } finally {
          closeQuietly(conn);
        }
      }, "worker-" + w);
      t.start();
      threads.add(t);
    }
    Path progress = out.resolve("progress");
    long lastPrint = 0;
    for (Thread t : threads) {
      while (t.isAlive()) {
        t.join(500);
        writeAtomically(progress, acked.get() + "\n");
        if (System.nanoTime() - lastPrint > TimeUnit.SECONDS.toNanos(10)) {
          lastPrint = System.nanoTime();
          System.out.printf("load: %d/%d acknowledged%n", acked.get(), total);
        }
      }
    }
    writeAtomically(progress, acked.get() + "\n");
    int failedAttempts = 0, indeterminateAttempts = 0, gaveUp = 0;
    try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out.resolve("acks.tsv")))) {
      for (int id = 1; id <= total; id++) {
        failedAttempts += failed.get(id);
        indeterminateAttempts += indeterminate.get(id);
        if (ackAt.get(id) == 0) gaveUp++;
        w.printf("%d\t%d\t%d\t%d\t%s%n", id, ackAt.get(id), failed.get(id), indeterminate.get(id), ackedBy.get(id));
      }
    }
    System.out.printf("load: %d inserts, %d acknowledged, %d gave up at the deadline; attempts: %d failed (not committed), %d indeterminate%n",
        total, acked.get(), gaveUp, failedAttempts, indeterminateAttempts);
    return gaveUp == 0 ? 0 : 3;
  }

  static int check(String host, int port, Path out) throws Exception {
    Map<Integer, Integer> present = new HashMap<>();
    try (Connection c = connect(host, port); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT id, count(*) FROM guestbook GROUP BY id")) {
      while (rs.next()) present.put(rs.getInt(1), rs.getInt(2));
    }
    int acknowledged = 0, lost = 0, duplicates = 0, unacknowledgedPresent = 0, indeterminateIds = 0;
    List<Integer> lostIds = new ArrayList<>();
    for (String line : Files.readAllLines(out.resolve("acks.tsv"))) {
      String[] f = line.split("\t");
      int id = Integer.parseInt(f[0]);
      boolean ack = Long.parseLong(f[1]) != 0;
      if (Integer.parseInt(f[3]) > 0) indeterminateIds++;
      int n = present.getOrDefault(id, 0);
      if (ack) {
        acknowledged++;
        if (n == 0) { lost++; if (lostIds.size() < 20) lostIds.add(id); }
      } else if (n > 0) {
        unacknowledgedPresent++;
      }
      if (n > 1) duplicates++;
      present.remove(id);
    }
    System.out.printf("acknowledged: %d%n", acknowledged);
    System.out.printf("lost: %d%s%n", lost, lostIds.isEmpty() ? "" : " " + lostIds);
    System.out.printf("duplicates: %d (ids present more than once; only possible after an indeterminate attempt: %d ids had one)%n",
        duplicates, indeterminateIds);
    System.out.printf("present but never acknowledged: %d; rows with unknown ids: %d%n", unacknowledgedPresent, present.size());
    return lost == 0 && present.isEmpty() ? 0 : 1;
  }

  static void writeAtomically(Path file, String text) {
    try {
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.writeString(tmp, text);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("writing " + file, e);
    }
  }

  static void closeQuietly(Connection c) {
    if (c == null) return;
    try {
      c.close();
    } catch (SQLException ignored) {
      // the connection is already broken; nothing to release
    }
  }
}
