package io.pgwarden.agent.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Signals and liveness of processes by pid, for the local cluster and the test harness. */
public final class Processes {
  private Processes() {}

  public static boolean isAlive(long pid) {
    return pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  /** Sends {@code signal} (KILL, TERM, STOP, CONT, INT, ...) with kill(1); returns whether it was delivered. */
  public static boolean signal(long pid, String signal) {
    if (pid <= 0) {
      return false;
    }
    try {
      Process p = new ProcessBuilder(List.of("kill", "-s", signal, Long.toString(pid)))
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The postmaster's pid from {@code postmaster.pid}, when that process is alive. */
  public static Optional<Long> postmasterPid(Path dataDir) {
    Path f = dataDir.resolve("postmaster.pid");
    try {
      List<String> lines = Files.readAllLines(f);
      if (lines.isEmpty()) {
        return Optional.empty();
      }
      long pid = Long.parseLong(lines.get(0).trim());
      return isAlive(pid) ? Optional.of(pid) : Optional.empty();
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** Waits up to {@code seconds} for {@code pid} to exit; returns whether it did. */
  public static boolean awaitExit(long pid, long seconds) {
    Optional<ProcessHandle> h = ProcessHandle.of(pid);
    if (h.isEmpty()) {
      return true;
    }
    try {
      h.get().onExit().get(seconds, TimeUnit.SECONDS);
      return true;
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return !h.get().isAlive();
    }
  }
}
