package io.pgwarden.agent.watchdog;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The clock the agent and its watchdog share: {@code /proc/uptime}, in centiseconds. Both processes
 * can read it (bash with a builtin, no fork), it never jumps with the wall clock, and it keeps
 * counting through a suspend, so a deadline on it can only arrive early, never late.
 */
@FunctionalInterface
public interface BootClock {
  /** Centiseconds since boot, rounded down. */
  long centis();

  BootClock PROC_UPTIME = new BootClock() {
    // One descriptor for the life of the process: a primary reads the clock every tick.
    private final ProcFile uptime = new ProcFile(Path.of("/proc/uptime"));

    @Override
    public long centis() {
      try {
        return parseUptime(uptime.read());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read /proc/uptime", e);
      }
    }
  };

  /** {@code "350735.47 1388945.89\n"} is 35073547. */
  static long parseUptime(String text) {
    // Not split("\\s+"): that compiles a pattern on every call, and the fence reads the clock every tick.
    String t = text.strip();
    int end = 0;
    while (end < t.length() && !Character.isWhitespace(t.charAt(end))) {
      end++;
    }
    String first = t.substring(0, end);
    int dot = first.indexOf('.');
    if (dot < 0 || first.length() - dot - 1 != 2) {
      throw new IllegalArgumentException("unexpected /proc/uptime: " + text.strip());
    }
    return Long.parseLong(first.substring(0, dot)) * 100 + Long.parseLong(first.substring(dot + 1));
  }

  /**
   * The watchdog deadline for a lease that has {@code left} at {@code nowCentis}. Rounded down,
   * and one centisecond earlier because the watchdog's own reading of the clock lags by up to one:
   * it must fire no later than the lease's local deadline, never after.
   */
  static long deadline(long nowCentis, Duration left) {
    if (left.isNegative() || left.isZero()) {
      return nowCentis - 1;
    }
    return nowCentis + left.toMillis() / 10 - 1;
  }
}
