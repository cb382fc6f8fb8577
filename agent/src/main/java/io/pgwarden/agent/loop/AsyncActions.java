package io.pgwarden.agent.loop;

import io.pgwarden.agent.port.RewindNotStartedException;

import io.pgwarden.common.model.InFlight;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs long actions (base backup, rewind) off the loop thread, one at a time, so the loop keeps
 * renewing the lease and publishing "creating replica" while they run. What they leave behind is
 * seen by the next observation; the only memory kept here is whether a rewind failed, and when the
 * last action failed: a new one starts only {@link #RETRY_AFTER_FAILURE} later, so a source that
 * refuses connections (a leader that just died, its key not yet expired) is not hammered in a tight loop.
 */
public final class AsyncActions implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AsyncActions.class);

  private final ExecutorService worker =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "pgwarden-long-action");
            t.setDaemon(true);
            return t;
          });
  private final AtomicReference<InFlight> current = new AtomicReference<>();
  private final AtomicBoolean rewindFailed = new AtomicBoolean();
  /** Time between a failed long action and the next one. */
  public static final java.time.Duration RETRY_AFTER_FAILURE = java.time.Duration.ofSeconds(2);
  private volatile long notBeforeNanos = System.nanoTime();
  private final Runnable onDone;

  /** @param onDone wakes the loop when an action ends */
  public AsyncActions(Runnable onDone) {
    this.onDone = onDone;
  }

  public InFlight current() {
    return current.get();
  }

  public boolean rewindFailed() {
    return rewindFailed.get();
  }

  /** Whether {@link #submit} would start work now: none runs, and no failure is being backed off. */
  public boolean ready() {
    return current.get() == null && System.nanoTime() - notBeforeNanos >= 0;
  }

  /** Starts {@code work} unless another long action runs; returns whether it started. */
  public boolean submit(InFlight what, Runnable work) {
    if (System.nanoTime() - notBeforeNanos < 0) {
      return false;
    }
    if (!current.compareAndSet(null, what)) {
      return false;
    }
    worker.execute(
        () -> {
          try {
            work.run();
            log.info("{} from {} finished", what.kind().state(), what.source());
            if (what.kind() == InFlight.Kind.BASE_BACKUP) {
              rewindFailed.set(false);
            }
          } catch (RuntimeException e) {
            notBeforeNanos = System.nanoTime() + RETRY_AFTER_FAILURE.toNanos();
            log.error("{} from {} failed (next long action in {} s at the earliest): {}", what.kind().state(),
                what.source(), RETRY_AFTER_FAILURE.toSeconds(), e.getMessage(), e);
            // A rewind that could not even reach its source left the data directory untouched.
            if (what.kind() == InFlight.Kind.REWIND && !(e instanceof RewindNotStartedException)) {
              rewindFailed.set(true);
            }
          } finally {
            current.set(null);
            onDone.run();
          }
        });
    return true;
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
