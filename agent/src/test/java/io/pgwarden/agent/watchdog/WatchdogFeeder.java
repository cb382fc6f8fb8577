package io.pgwarden.agent.watchdog;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Stands in for the agent in WatchdogIT: a separate JVM that owns the watchdog's pipe and feeds it
 * like the loop would, so the test can SIGKILL or SIGSTOP "the agent" and nothing else.
 *
 * <p>Args: BIN_DIR DATA_DIR WORK_DIR arm|disarm LEASE_MILLIS [COMMAND_PREFIX...]
 */
public final class WatchdogFeeder {
  private WatchdogFeeder() {}

  public static void main(String[] args) {
    Path bin = Path.of(args[0]);
    Path data = Path.of(args[1]);
    Path work = Path.of(args[2]);
    boolean arm = args[3].equals("arm");
    Duration lease = Duration.ofMillis(Long.parseLong(args[4]));
    List<String> prefix = Arrays.asList(args).subList(5, args.length);
    Watchdog w = Watchdog.start(bin, data, work, prefix);
    System.out.println("WATCHDOG " + w.pid());
    ScheduledExecutorService ticks = Executors.newSingleThreadScheduledExecutor();
    // Each tick "renews" the lease, so its deadline is now + lease, as with a healthy agent.
    ticks.scheduleAtFixedRate(() -> {
      long sentAt = System.nanoTime();
      if (arm) {
        w.arm(() -> lease.minusNanos(System.nanoTime() - sentAt));
      } else {
        w.disarm();
      }
      System.out.println("FED");
      System.out.flush();
    }, 0, 200, TimeUnit.MILLISECONDS);
  }
}
