package io.pgwarden.agent.postgres;

import io.pgwarden.agent.port.PostgresCommandException;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one program from an argument list (never through a shell, so nothing needs quoting and
 * nothing can be injected), bounded by a timeout.
 *
 * <p>The {@code commandPrefix} is put in front of every command line, e.g. to run as another user
 * ({@code setpriv ... --}); it is empty in production, where the agent already runs as the data
 * directory's owner.
 */
public final class ProcessRunner {
  private static final Logger log = LoggerFactory.getLogger(ProcessRunner.class);
  private static final int STDERR_TAIL_BYTES = 2048;
  private static final Pattern PASSWORD =
      Pattern.compile("(?i)(password\\s*=\\s*)('(?:[^'\\\\]|\\\\.)*'|[^\\s']+)");
  /** Output readers get this long after exit: a daemonized grandchild may hold our pipes open. */
  private static final Duration DRAIN_AFTER_EXIT = Duration.ofSeconds(2);

  private final List<String> commandPrefix;

  public ProcessRunner(List<String> commandPrefix) {
    this.commandPrefix = List.copyOf(commandPrefix);
  }

  /** What a finished (or killed) program left behind. */
  public record Result(int exitCode, String stdout, String stderrTail, boolean timedOut) {
    public boolean ok() {
      return exitCode == 0 && !timedOut;
    }
  }

  /**
   * Runs {@code command}; returns its result whatever the exit code. On timeout the whole process
   * tree is killed and the result says {@code timedOut} with exit code -1.
   *
   * @param env added to (and overriding) the agent's environment
   * @param workDir working directory, or null for the agent's
   */
  public Result run(List<String> command, Map<String, String> env, Path workDir, Duration timeout) {
    List<String> full = new ArrayList<>(commandPrefix);
    full.addAll(command);
    String shown = redact(String.join(" ", command));
    ProcessBuilder pb = new ProcessBuilder(full).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().putAll(env);
    if (workDir != null) {
      pb.directory(workDir.toFile());
    }
    log.debug("running {}", shown);
    long started = System.nanoTime();
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new PostgresCommandException(programName(command), "could not start: " + e.getMessage(), e);
    }
    Drain out = new Drain(p.getInputStream(), Integer.MAX_VALUE);
    Drain err = new Drain(p.getErrorStream(), STDERR_TAIL_BYTES);
    out.start();
    err.start();
    boolean finished;
    try {
      finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      killTree(p);
      Thread.currentThread().interrupt();
      throw new PostgresCommandException(programName(command), "interrupted", e);
    }
    if (!finished) {
      log.warn("{} did not finish within {}; killing its process tree", shown, timeout);
      killTree(p);
    }
    out.join(DRAIN_AFTER_EXIT);
    err.join(DRAIN_AFTER_EXIT);
    int rc = finished ? p.exitValue() : -1;
    Duration took = Duration.ofNanos(System.nanoTime() - started);
    log.debug("{} exited with {} after {} ms", shown, rc, took.toMillis());
    return new Result(rc, out.text(), redact(err.text()), !finished);
  }

  /** Like {@link #run}, but a non-zero exit or a timeout throws, naming {@code what}. */
  public Result runChecked(String what, List<String> command, Map<String, String> env, Path workDir, Duration timeout) {
    Result r = run(command, env, workDir, timeout);
    if (r.timedOut()) {
      throw new PostgresCommandException(what, -1, "timed out after " + timeout + "; " + r.stderrTail());
    }
    if (r.exitCode() != 0) {
      throw new PostgresCommandException(what, r.exitCode(), r.stderrTail());
    }
    return r;
  }

  /** Replaces every {@code password=...} value (quoted or bare) with {@code ***}. */
  static String redact(String text) {
    return text == null ? null : PASSWORD.matcher(text).replaceAll("$1***");
  }

  private static String programName(List<String> command) {
    return command.isEmpty() ? "(empty command)" : Path.of(command.get(0)).getFileName().toString();
  }

  private static void killTree(Process p) {
    // Children first: once the parent is gone they are reparented and harder to find.
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    try {
      p.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Reads one stream to its end on a daemon thread, keeping at most {@code keepLast} bytes. */
  private static final class Drain extends Thread {
    private final InputStream in;
    private final int keepLast;
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

    Drain(InputStream in, int keepLast) {
      super("process-output");
      setDaemon(true);
      this.in = in;
      this.keepLast = keepLast;
    }

    @Override
    public void run() {
      byte[] chunk = new byte[8192];
      try (in) {
        int n;
        while ((n = in.read(chunk)) >= 0) {
          synchronized (buf) {
            buf.write(chunk, 0, n);
            if (buf.size() > 2 * keepLast && keepLast < Integer.MAX_VALUE / 2) {
              byte[] all = buf.toByteArray();
              buf.reset();
              buf.write(all, all.length - keepLast, keepLast);
            }
          }
        }
      } catch (IOException e) {
        // The process was killed or closed its end; whatever was read so far is the result.
      }
    }

    void join(Duration d) {
      try {
        super.join(d.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    String text() {
      byte[] all;
      synchronized (buf) {
        all = buf.toByteArray();
      }
      int from = Math.max(0, all.length - keepLast);
      return new String(all, from, all.length - from, StandardCharsets.UTF_8);
    }
  }
}
