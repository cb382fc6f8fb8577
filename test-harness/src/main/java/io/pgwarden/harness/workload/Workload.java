package io.pgwarden.harness.workload;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The seed's load test, made checkable: {@code count} INSERTs, each with its own id, from a pool of
 * workers that wait a random delay before each id and retry it until it commits or the time budget
 * runs out, through the multi-host JDBC URL ({@code targetServerType=primary}), as the seed's client did.
 *
 * <p><b>Outcome of an id.</b> ACKNOWLEDGED when some attempt's (auto)commit returned; FAILED when every
 * attempt was refused before anything could commit (no connection, or the server rejected the statement
 * with a definite error such as read-only); INDETERMINATE otherwise: an attempt broke after the
 * statement was sent (socket timeout, connection reset, backend terminated), so the row may or may
 * not have landed.
 *
 * <p><b>Why retries cannot create duplicates, and how duplicates are still detected.</b> An id is only
 * retried after a failed or indeterminate attempt, and the retry must not land a second copy if the
 * first one did commit. {@code guestbook.id} is a primary key and the insert is
 * {@code ON CONFLICT DO NOTHING}, so a retry is idempotent. That same key would hide a duplicate from
 * a naive count, so the same statement also writes a row to {@code guestbook_landings}, which has no
 * unique constraint, but only when the guestbook row was really inserted (a data-modifying CTE, one
 * transaction). Every surviving id must therefore have exactly one landing row; two landing rows for an
 * id mean two transactions both inserted it fresh and both survived, which one linear history with a
 * primary key cannot produce. The checker counts those as duplicates. A retry that hits the conflict
 * learns that an earlier indeterminate attempt did land; its own commit still acknowledges the id,
 * because the row it conflicted with was committed and visible on the primary it talked to.
 *
 * <p>An acknowledged id is never retried, so a retry can never mask the loss of an acknowledged row.
 */
public final class Workload implements AutoCloseable {

  /** How an id ended. */
  public enum Outcome {
    ACKNOWLEDGED,
    FAILED,
    INDETERMINATE,
    /** Never attempted: the budget ran out before a worker picked it. */
    NOT_ATTEMPTED
  }

  /**
   * @param count ids to insert, 1..count
   * @param workers concurrent workers (the seed used one per insert; ~30 is its effective concurrency)
   * @param maxDelay upper bound of the random delay before each id (load shape, not synchronisation)
   * @param retryDelay pause between attempts of the same id
   * @param budget the whole run ends after this, whatever is left
   * @param connectTimeout per host; a frozen host must not hold a worker for long
   * @param socketTimeout per statement; beyond it the attempt is INDETERMINATE
   */
  public record Options(int count, int workers, Duration maxDelay, Duration retryDelay, Duration budget,
      Duration connectTimeout, Duration socketTimeout) {
    public static final Options SEED = new Options(3000, 30, Duration.ofSeconds(2), Duration.ofMillis(200),
        Duration.ofMinutes(10), Duration.ofSeconds(2), Duration.ofSeconds(5));
    /** Short enough for every build on a 2-core runner. */
    public static final Options CI = new Options(600, 20, Duration.ofSeconds(2), Duration.ofMillis(200),
        Duration.ofMinutes(5), Duration.ofSeconds(2), Duration.ofSeconds(5));

    public Options {
      if (count < 1 || workers < 1) {
        throw new IllegalArgumentException("count and workers must be >= 1, got " + count + ", " + workers);
      }
      if (maxDelay.isNegative() || retryDelay.isNegative() || budget.isNegative() || budget.isZero()) {
        throw new IllegalArgumentException("delays must be >= 0 and the budget > 0");
      }
      if (connectTimeout.toSeconds() < 1 || socketTimeout.toSeconds() < 1) {
        throw new IllegalArgumentException("pgjdbc timeouts are whole seconds, >= 1");
      }
    }

    public Options withCount(int c, int w) {
      return new Options(c, w, maxDelay, retryDelay, budget, connectTimeout, socketTimeout);
    }
  }

  /** What happened to one id; {@code ackNanos} is System.nanoTime when its commit returned, else 0. */
  public record IdRecord(int id, Outcome outcome, int attempts, boolean hadIndeterminateAttempt, long ackNanos) {}

  public static final String TABLE = "guestbook";
  public static final String LANDINGS = "guestbook_landings";

  private static final String INSERT = "WITH ins AS (INSERT INTO " + TABLE + " (id, attempt) VALUES (?, ?) "
      + "ON CONFLICT (id) DO NOTHING RETURNING id) INSERT INTO " + LANDINGS + " (id, attempt) SELECT id, ? FROM ins";

  private final String url;
  private final Properties props;
  private final Options options;
  private final Map<Integer, IdRecord> records = new ConcurrentHashMap<>();
  private final AtomicInteger nextId = new AtomicInteger(1);
  private final AtomicInteger acknowledged = new AtomicInteger();
  private final AtomicInteger finished = new AtomicInteger();
  private final AtomicLong lastAckNanos = new AtomicLong();
  private final List<Long> ackTimes = Collections.synchronizedList(new ArrayList<>());
  private final AtomicBoolean stopped = new AtomicBoolean();
  private ExecutorService pool;
  private long deadlineNanos;

  public Workload(String multiHostJdbcUrl, String user, String password, Options options) {
    this.options = options;
    // hostRecheckSeconds=1: pgjdbc otherwise remembers for 10 s that a host was not the primary, which
    // would add up to 10 s to every measured failover.
    this.url = multiHostJdbcUrl + (multiHostJdbcUrl.contains("?") ? "&" : "?") + "hostRecheckSeconds=1";
    this.props = new Properties();
    props.setProperty("user", user);
    props.setProperty("password", password);
    props.setProperty("connectTimeout", Long.toString(options.connectTimeout().toSeconds()));
    props.setProperty("loginTimeout", Long.toString(options.connectTimeout().toSeconds() * 2));
    props.setProperty("socketTimeout", Long.toString(options.socketTimeout().toSeconds()));
    props.setProperty("tcpKeepAlive", "true");
  }

  public Options options() {
    return options;
  }

  /** Creates both tables on the primary the URL finds. Idempotent. */
  public void createSchema() throws SQLException {
    try (Connection c = DriverManager.getConnection(url, props); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id int PRIMARY KEY, attempt int NOT NULL, "
          + "written_at timestamptz NOT NULL DEFAULT clock_timestamp())");
      st.execute("CREATE TABLE IF NOT EXISTS " + LANDINGS + " (id int NOT NULL, attempt int NOT NULL)");
    }
  }

  /** Starts the workers and returns at once. */
  public synchronized void start() {
    if (pool != null) {
      throw new IllegalStateException("workload already started");
    }
    deadlineNanos = System.nanoTime() + options.budget().toNanos();
    pool = Executors.newFixedThreadPool(options.workers(), r -> {
      Thread t = new Thread(r, "workload");
      t.setDaemon(true);
      return t;
    });
    for (int w = 0; w < options.workers(); w++) {
      pool.execute(this::work);
    }
    pool.shutdown();
  }

  private void work() {
    while (!stopped.get() && System.nanoTime() - deadlineNanos < 0) {
      int id = nextId.getAndIncrement();
      if (id > options.count()) {
        return;
      }
      shape(options.maxDelay().toMillis() == 0 ? 0 : ThreadLocalRandom.current().nextLong(options.maxDelay().toMillis() + 1));
      // Until its worker reports back, an id counts as in flight: if the run is abandoned it may still
      // have landed, so it must not be mistaken for one that was never attempted.
      records.put(id, new IdRecord(id, Outcome.INDETERMINATE, 0, true, 0));
      records.put(id, insertUntilAcknowledged(id));
      finished.incrementAndGet();
    }
  }

  private IdRecord insertUntilAcknowledged(int id) {
    int attempt = 0;
    boolean indeterminate = false;
    while (!stopped.get() && System.nanoTime() - deadlineNanos < 0) {
      attempt++;
      Attempt a = tryInsert(id, attempt);
      if (a == Attempt.ACKNOWLEDGED) {
        long now = System.nanoTime();
        acknowledged.incrementAndGet();
        lastAckNanos.set(now);
        ackTimes.add(now);
        return new IdRecord(id, Outcome.ACKNOWLEDGED, attempt, indeterminate, now);
      }
      indeterminate |= a == Attempt.INDETERMINATE;
      shape(options.retryDelay().toMillis());
    }
    Outcome o = attempt == 0 ? Outcome.NOT_ATTEMPTED : indeterminate ? Outcome.INDETERMINATE : Outcome.FAILED;
    return new IdRecord(id, o, attempt, indeterminate, 0);
  }

  private enum Attempt { ACKNOWLEDGED, FAILED, INDETERMINATE }

  private Attempt tryInsert(int id, int attempt) {
    Connection c;
    try {
      c = DriverManager.getConnection(url, props);
    } catch (SQLException e) {
      // Nothing was sent: no primary reachable (or one that turned out read-only at connect).
      return Attempt.FAILED;
    }
    try (c; PreparedStatement ps = c.prepareStatement(INSERT)) {
      ps.setInt(1, id);
      ps.setInt(2, attempt);
      ps.setInt(3, attempt);
      ps.executeUpdate(); // autocommit: returns after COMMIT
      return Attempt.ACKNOWLEDGED;
    } catch (SQLException e) {
      return definitelyNotCommitted(e) ? Attempt.FAILED : Attempt.INDETERMINATE;
    }
  }

  /**
   * Errors the server raises while executing the statement abort the transaction before commit: the
   * row cannot have landed. Connection-level errors (class 08), termination (57P*) and anything
   * unknown may hit after the commit record was written, so they stay indeterminate.
   */
  static boolean definitelyNotCommitted(SQLException e) {
    String state = e.getSQLState();
    if (state == null) {
      return false;
    }
    return state.equals("25006") // read_only_sql_transaction: a replica or a fenced primary
        || state.startsWith("23") // integrity violation
        || state.startsWith("42") // syntax or access rule
        || state.equals("40001") || state.equals("40P01")
        || state.equals("57P03"); // cannot_connect_now: starting up / shutting down, before any work
  }

  /** A random pause between requests: the shape of the seed's load, never used to wait for state. */
  private static void shape(long millis) {
    if (millis <= 0) {
      return;
    }
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public int acknowledgedCount() {
    return acknowledged.get();
  }

  /** Ids a worker has finished with, whatever the outcome. */
  public int finishedCount() {
    return finished.get();
  }

  public boolean isDone() {
    return pool != null && pool.isTerminated();
  }

  /** Earliest acknowledgement strictly after {@code nanos}, if any. */
  public java.util.OptionalLong firstAckAfter(long nanos) {
    synchronized (ackTimes) {
      return ackTimes.stream().mapToLong(Long::longValue).filter(t -> t - nanos > 0).min();
    }
  }

  /** Waits for the workers to finish, bounded by the budget plus {@code grace}; then stops them. */
  public void awaitDone(Duration grace) {
    if (pool == null) {
      return;
    }
    try {
      long left = deadlineNanos - System.nanoTime() + grace.toNanos();
      if (!pool.awaitTermination(Math.max(left, 0), TimeUnit.NANOSECONDS)) {
        stop();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop();
    }
  }

  /** Stops handing out ids and abandons retries; in-flight attempts end within the socket timeout. */
  public void stop() {
    stopped.set(true);
    if (pool != null) {
      try {
        pool.awaitTermination(options.socketTimeout().toSeconds() + options.connectTimeout().toSeconds() * 4L + 5,
            TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Every id 1..count with its outcome; ids never picked are NOT_ATTEMPTED. */
  public Map<Integer, IdRecord> records() {
    Map<Integer, IdRecord> out = new TreeMap<>();
    for (int id = 1; id <= options.count(); id++) {
      IdRecord r = records.get(id);
      out.put(id, r != null ? r : new IdRecord(id, Outcome.NOT_ATTEMPTED, 0, false, 0));
    }
    return out;
  }

  @Override
  public void close() {
    stop();
  }
}
