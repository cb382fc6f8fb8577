package io.pgwarden.agent.loop;

import io.pgwarden.agent.postgres.ProcessRunner;
import io.pgwarden.common.config.CallbacksConfig;
import io.pgwarden.common.model.LocalPgState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Patroni-style callbacks ({@code on_start}, {@code on_stop}, {@code on_role_change}), derived from
 * the level the loop observes: each observation's role is compared with the previous one, so an
 * edge is never invented from an intention, only from what PostgreSQL was seen doing. The programs
 * run one at a time on their own thread with a timeout; the loop only queues them and never waits.
 */
public final class Callbacks implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Callbacks.class);
  private static final int QUEUE = 32;

  /** What PostgreSQL was seen as: stopped, primary or replica (Patroni's role names). */
  public enum Seen {
    STOPPED(null),
    PRIMARY("primary"),
    REPLICA("replica");

    final String role;

    Seen(String role) {
      this.role = role;
    }

    static Seen of(LocalPgState l) {
      return !l.running() ? STOPPED : l.inRecovery() ? REPLICA : PRIMARY;
    }
  }

  /** One callback to run: {@code action} is on_start, on_stop or on_role_change. */
  public record Event(String action, String role) {}

  private final CallbacksConfig cfg;
  private final String scope;
  private final ProcessRunner runner;
  private final ThreadPoolExecutor pool;
  private Seen last; // loop thread only

  public Callbacks(CallbacksConfig cfg, String scope, ProcessRunner runner) {
    this.cfg = cfg;
    this.scope = scope;
    this.runner = runner;
    this.pool = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), r -> {
      Thread t = new Thread(r, "pgwarden-callbacks");
      t.setDaemon(true);
      return t;
    });
  }

  public static Callbacks none() {
    return new Callbacks(CallbacksConfig.NONE, "", new ProcessRunner(List.of()));
  }

  /**
   * The edges between two observed states. The first observation after the agent started only
   * sets the level (PostgreSQL may have been running long before), as in Patroni.
   */
  public static List<Event> between(Seen before, Seen now) {
    List<Event> out = new ArrayList<>();
    if (before == null || before == now) {
      return out;
    }
    if (before == Seen.STOPPED) {
      out.add(new Event("on_start", now.role));
    } else if (now == Seen.STOPPED) {
      out.add(new Event("on_stop", before.role));
    } else {
      out.add(new Event("on_role_change", now.role));
    }
    return out;
  }

  /** Called by the loop with each observation; queues the programs for any edge. Never blocks. */
  public void observed(LocalPgState local) {
    if (local.isUnknown() && !local.running()) {
      return; // an unreadable state is no edge
    }
    Seen now = Seen.of(local);
    for (Event e : between(last, now)) {
      submit(e);
    }
    last = now;
  }

  private void submit(Event e) {
    List<String> program = switch (e.action()) {
      case "on_start" -> cfg.onStart();
      case "on_stop" -> cfg.onStop();
      default -> cfg.onRoleChange();
    };
    if (program.isEmpty()) {
      return;
    }
    List<String> argv = new ArrayList<>(program);
    argv.addAll(List.of(e.action(), e.role(), scope));
    try {
      pool.execute(() -> run(argv));
    } catch (RejectedExecutionException ex) {
      log.warn("callback {} {} dropped: {} callbacks are already queued", e.action(), e.role(), QUEUE);
    }
  }

  private void run(List<String> argv) {
    ProcessRunner.Result r = runner.run(argv, Map.of(), null, Duration.ofSeconds(cfg.timeout()));
    if (r.timedOut()) {
      log.warn("callback {} killed after {} s", argv, cfg.timeout());
    } else if (r.exitCode() != 0) {
      log.warn("callback {} exited with {}: {}", argv, r.exitCode(), r.stderrTail().strip());
    } else {
      log.info("callback {} done", argv);
    }
  }

  /**
   * The agent is exiting and the loop no longer observes. When the agent itself just stopped
   * PostgreSQL that was last seen running, on_stop runs (the loop would never see that edge); then
   * every queued callback gets to finish, all together bounded by the callback timeout. Call from
   * the loop's thread after the loop returned.
   */
  public void agentStopping(boolean stoppedPostgres) {
    if (stoppedPostgres && last != null && last != Seen.STOPPED) {
      submit(new Event("on_stop", last.role));
      last = Seen.STOPPED;
    }
    pool.shutdown();
    try {
      if (!pool.awaitTermination(cfg.timeout() + 5L, TimeUnit.SECONDS)) {
        log.warn("exiting with callbacks still running or queued after {} s", cfg.timeout() + 5);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The longest {@link #agentStopping} may wait. */
  public Duration stoppingBound() {
    return Duration.ofSeconds(cfg.timeout() + 5L);
  }

  @Override
  public void close() {
    pool.shutdown();
  }
}
