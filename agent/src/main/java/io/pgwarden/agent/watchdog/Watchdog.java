package io.pgwarden.agent.watchdog;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fencing for when the agent cannot act (docs/safety.md). A companion bash process, outside the
 * JVM and in its own session, that stops the local PostgreSQL (immediate) when the agent armed it
 * and then either died (its stdin hits EOF) or stayed silent past the lease deadline it was given
 * (frozen: SIGSTOP, a long GC pause).
 *
 * <p>The agent feeds it every tick while it holds the leader key: {@link #arm(Supplier)} with the
 * lease's remaining time. Feeds carry an absolute deadline on the clock both processes share
 * ({@link BootClock}), so a feed delayed by a freeze cannot move the deadline later.
 *
 * <p>Calls never block the loop: commands are states, not deltas, so only the latest one matters;
 * a writer thread delivers it, and a newer command replaces one still waiting. Thread-safe.
 */
public final class Watchdog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Watchdog.class);
  private static final String SCRIPT = "pgwarden-watchdog.sh";
  /** A write to a pipe this small only takes long when the reader is frozen or gone. */
  private static final Duration STUCK_WRITE = Duration.ofSeconds(2);
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

  private final Process process;
  private final OutputStream stdin;
  private final BootClock clock;
  private final Path logFile;
  /** Its {@code /proc/PID/stat}, kept open: {@link #alive()} reads it every tick of a primary. */
  private final ProcFile procStat;
  private final Thread writer;
  private final Object lock = new Object();
  private String pending;
  private boolean closing;
  /** Closing without the final disarm: see {@link #hangUp()}. */
  private boolean hangingUp;
  private volatile boolean armed;
  private volatile boolean failed;
  private volatile long writeStartedAt;
  private final AtomicBoolean complained = new AtomicBoolean();

  private Watchdog(Process process, BootClock clock, Path logFile) {
    this.process = process;
    this.stdin = process.getOutputStream();
    this.clock = clock;
    this.logFile = logFile;
    this.procStat = new ProcFile(Path.of("/proc/" + process.pid() + "/stat"));
    this.writer = new Thread(this::deliver, "pgwarden-watchdog-feeder");
    writer.setDaemon(true);
    writer.start();
  }

  /** Starts a disarmed watchdog for {@code dataDir}; it runs as the agent's own OS user. */
  public static Watchdog start(Path binDir, Path dataDir, Path workDir) {
    return start(binDir, dataDir, workDir, List.of());
  }

  /**
   * @param commandPrefix put before the command, e.g. {@code setpriv --reuid=postgres ... --} when
   *     tests run as root: the watchdog must be able to signal the postmaster and run pg_ctl
   */
  public static Watchdog start(Path binDir, Path dataDir, Path workDir, List<String> commandPrefix) {
    BootClock.PROC_UPTIME.centis(); // fails here, at start-up, on a system without /proc/uptime
    String base = dataDir.getFileName().toString();
    Path script = workDir.resolve(base + ".watchdog.sh");
    Path logFile = workDir.resolve(base + ".watchdog.log");
    installScript(script);
    List<String> cmd = new ArrayList<>(commandPrefix);
    // Its own session: a signal sent to the agent's process group (a terminal's Ctrl-C or Ctrl-Z,
    // kill -STOP -PGID) must not reach the process that guards against the agent being stopped.
    Path setsid = Path.of("/usr/bin/setsid");
    if (Files.isExecutable(setsid)) {
      cmd.add(setsid.toString());
    }
    cmd.addAll(List.of("bash", script.toString(), dataDir.toString(), binDir.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd)
        .directory(workDir.toFile())
        .redirectErrorStream(true)
        // A file, never a pipe to us: once we are dead, its writes to a pipe would kill it.
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    try {
      Process p = pb.start();
      log.info("watchdog started (pid {}) for {}, disarmed; its log: {}", p.pid(), dataDir, logFile);
      return new Watchdog(p, BootClock.PROC_UPTIME, logFile);
    } catch (IOException e) {
      throw new UncheckedIOException("could not start the watchdog", e);
    }
  }

  private static void installScript(Path target) {
    try (InputStream in = Watchdog.class.getResourceAsStream(SCRIPT)) {
      if (in == null) {
        throw new IllegalStateException(SCRIPT + " is missing from the jar");
      }
      // Written whole and renamed: a watchdog started from a half-written script could not fire.
      Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".tmp",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
      try {
        Files.write(tmp, in.readAllBytes());
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not write the watchdog script " + target, e);
    }
  }

  /**
   * Feed: stop PostgreSQL unless fed again before {@code untilDeadline} elapses. The clock is read
   * before the supplier, so a freeze in between only brings the deadline earlier. Pass
   * {@code lease::remaining}.
   */
  public void arm(Supplier<Duration> untilDeadline) {
    long now = clock.centis();
    Duration left = untilDeadline.get();
    if (!armed) {
      log.info("watchdog armed: PostgreSQL is stopped unless I feed it again within {} ms", left.toMillis());
    }
    armed = true;
    send("arm " + BootClock.deadline(now, left));
  }

  /**
   * Feed with a duration measured by the caller. A freeze between that measurement and this call
   * stretches the deadline by the freeze; prefer {@link #arm(Supplier)}.
   */
  public void arm(Duration untilDeadline) {
    arm(() -> untilDeadline);
  }

  /** Not primary any more (or a clean shutdown follows): the watchdog never stops PostgreSQL. */
  public void disarm() {
    if (!armed) {
      // It starts disarmed and only arm() arms it: telling it again on every tick of a replica would only
      // wake it (and the writer thread) for nothing.
      return;
    }
    log.info("watchdog disarmed");
    armed = false;
    send("disarm");
  }

  public boolean armed() {
    return armed;
  }

  public long pid() {
    return process.pid();
  }

  public Path logFile() {
    return logFile;
  }

  /**
   * Whether it can still protect us: running, not stopped (SIGSTOP), and reading its commands.
   * When false while primary, the agent must treat it as fatal for the primary role: start a new
   * one and re-arm it, or demote.
   */
  public boolean alive() {
    return running() && !stopped(procStat);
  }

  /**
   * {@link #alive()} without the look at /proc for a stopped process: whether it runs and reads its
   * commands. Enough while it fences nothing.
   */
  public boolean running() {
    if (failed || !process.isAlive()) {
      return false;
    }
    long started = writeStartedAt;
    if (started != 0 && System.nanoTime() - started > STUCK_WRITE.toNanos()) {
      complainOnce("watchdog does not read its commands for " + STUCK_WRITE.toSeconds() + " s", null);
      return false;
    }
    return true;
  }

  /**
   * Disarms it and lets it exit: a clean close never stops PostgreSQL. Call it after the agent has
   * stopped PostgreSQL itself and released its keys, so the watchdog guards the shutdown too.
   */
  @Override
  public void close() {
    armed = false;
    synchronized (lock) {
      closing = true;
      lock.notifyAll();
    }
    try {
      writer.join(CLOSE_WAIT.toMillis());
      if (!process.waitFor(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        // It did not take the disarm + EOF: SIGKILL cannot make it fire, only end it.
        log.warn("watchdog (pid {}) did not exit on close; killing it", process.pid());
        process.destroyForcibly();
      } else {
        log.info("watchdog stopped (disarmed)");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    procStat.close();
  }

  /**
   * Ends its input without the disarm {@link #close()} sends first, as the agent's death would:
   * armed, it stops PostgreSQL at once; disarmed, it exits and leaves PostgreSQL alone. For a
   * shutdown that could not stop PostgreSQL itself. Waits a little for it to finish, never kills it:
   * that would keep it from firing.
   */
  public void hangUp() {
    synchronized (lock) {
      if (closing) {
        return;
      }
      closing = true;
      hangingUp = true;
      lock.notifyAll();
    }
    try {
      writer.join(CLOSE_WAIT.toMillis());
      if (process.waitFor(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        log.info("watchdog exited (status {}); its log: {}", process.exitValue(), logFile);
      } else {
        log.warn("watchdog (pid {}) still runs; it finishes on its own, its log: {}", process.pid(), logFile);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Ends a watchdog that is no longer {@link #alive()} without waiting for it: a frozen one would
   * hold the loop up. SIGKILL cannot make it fire, so this never stops PostgreSQL.
   */
  public void abandon() {
    armed = false;
    synchronized (lock) {
      closing = true;
      lock.notifyAll();
    }
    process.destroyForcibly();
    procStat.close();
  }

  private void send(String command) {
    synchronized (lock) {
      if (closing) {
        return;
      }
      pending = command;
      lock.notifyAll();
    }
  }

  /**
   * The writer thread: delivers the latest command; on close, "disarm" and then EOF; on hang-up, the
   * command still waiting (so it acts on the agent's last word) and then EOF.
   */
  private void deliver() {
    while (true) {
      String next;
      boolean last;
      synchronized (lock) {
        while (pending == null && !closing) {
          try {
            lock.wait();
          } catch (InterruptedException e) {
            return;
          }
        }
        last = closing;
        next = last && !hangingUp ? "disarm" : pending;
        pending = null;
      }
      if (next != null && !write(next)) {
        return;
      }
      if (last) {
        try {
          stdin.close();
        } catch (IOException e) {
          complainOnce("could not close the watchdog's stdin", e);
        }
        return;
      }
    }
  }

  private boolean write(String command) {
    writeStartedAt = System.nanoTime() | 1; // never 0, which means idle
    try {
      // One write of a short line: atomic on a pipe, so the watchdog never reads half a command.
      stdin.write((command + "\n").getBytes(StandardCharsets.US_ASCII));
      stdin.flush();
      return true;
    } catch (IOException e) {
      failed = true;
      complainOnce("the watchdog is gone (" + e.getMessage() + ")", null);
      return false;
    } finally {
      writeStartedAt = 0;
    }
  }

  private void complainOnce(String message, Throwable e) {
    if (complained.compareAndSet(false, true)) {
      log.error("{}; PostgreSQL is not fenced against a frozen or dead agent until it is replaced", message, e);
    }
  }

  /** State T (stopped) or t (traced) in /proc/PID/stat; unknown counts as running. */
  static boolean stopped(ProcFile procStat) {
    try {
      // Through one descriptor (this runs on every tick of a primary); the state and ')' are ASCII.
      return stoppedState(procStat.read());
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  static boolean stoppedState(String stat) {
    // The command name may contain spaces and parentheses: the state follows the last ')'.
    int close = stat.lastIndexOf(')');
    if (close < 0 || close + 2 >= stat.length()) {
      return false;
    }
    char state = stat.charAt(close + 2);
    return state == 'T' || state == 't';
  }
}
