package io.pgwarden.harness.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** RSS and CPU time of a process from /proc (Linux). */
final class ProcStat {
  /** USER_HZ; 100 on every Linux ABI the benchmarks run on. */
  static final int CLK_TCK = 100;
  private static final Path PROC = Path.of("/proc");

  private ProcStat() {}

  static double rssMiB(long pid) {
    return kibField(pid, "status", "VmRSS:") / 1024.0;
  }

  /**
   * Proportional set size: shared pages divided among the processes that map them. A helper such as a bash
   * process shares nearly all of its RSS (bash and libc) with every other one on the machine.
   */
  static double pssMiB(long pid) {
    return kibField(pid, "smaps_rollup", "Pss:") / 1024.0;
  }

  /** A "Name:   123 kB" line of one of the process's /proc files, in KiB; 0 when the process is gone. */
  private static long kibField(long pid, String file, String field) {
    try {
      for (String l : Files.readAllLines(PROC.resolve(Long.toString(pid)).resolve(file))) {
        if (l.startsWith(field)) {
          return Long.parseLong(l.replaceAll("\\D+", ""));
        }
      }
    } catch (IOException e) {
      // gone
    }
    return 0;
  }

  /** utime + stime of every thread, in clock ticks. */
  static long cpuTicks(long pid) {
    try {
      String[] f = statFields(Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat")));
      // after "pid (comm) ": state=0 ppid=1 ... utime=11 stime=12
      return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    } catch (IOException e) {
      return 0;
    }
  }

  /**
   * When the process started, in clock ticks since boot; -1 when it is gone. A pid and this together name
   * one process: a pid alone may be reused within a measuring window.
   */
  static long startTicks(long pid) {
    try {
      // field 22 of the line, "starttime"
      return Long.parseLong(statFields(Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat")))[19]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** The fields of a /proc stat line after "pid (comm) "; comm may hold spaces and parentheses. */
  static String[] statFields(String stat) {
    return stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
  }

  /** The comm of a /proc stat line: between the first "(" and the last ")". */
  static String statComm(String stat) {
    return stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  }

  /** Time each live thread of {@code pid} has run, in nanoseconds by thread id (schedstat's first field). */
  static Map<Long, Long> threadRuntimes(long pid) {
    Map<Long, Long> out = new HashMap<>();
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(PROC.resolve(Long.toString(pid)).resolve("task"))) {
      for (Path t : tasks) {
        try {
          String s = Files.readString(t.resolve("schedstat"));
          out.put(Long.parseLong(t.getFileName().toString()), Long.parseLong(s.substring(0, s.indexOf(' '))));
        } catch (IOException | RuntimeException e) {
          // the thread ended between the listing and the read
        }
      }
    } catch (IOException e) {
      // gone
    }
    return out;
  }

  /**
   * Every process below {@code pid} (children, their children, ...) except PostgreSQL's: what else an agent
   * keeps running beside itself, such as pgwarden's watchdog. PostgreSQL is left out by name ("postgres",
   * the postmaster's and every backend's), with what it started, since it is the database, not the agent.
   */
  static List<Long> helperProcesses(long pid) {
    Map<Long, List<Long>> children = new HashMap<>();
    Map<Long, String> comm = new HashMap<>();
    try (DirectoryStream<Path> all = Files.newDirectoryStream(PROC, p -> p.getFileName().toString().matches("\\d+"))) {
      for (Path p : all) {
        try {
          String stat = Files.readString(p.resolve("stat"));
          long id = Long.parseLong(p.getFileName().toString());
          comm.put(id, statComm(stat));
          children.computeIfAbsent(Long.parseLong(statFields(stat)[1]), k -> new ArrayList<>()).add(id);
        } catch (IOException | RuntimeException e) {
          // exited between the listing and the read
        }
      }
    } catch (IOException e) {
      return List.of();
    }
    return descendants(pid, children, comm);
  }

  static List<Long> descendants(long pid, Map<Long, List<Long>> children, Map<Long, String> comm) {
    List<Long> out = new ArrayList<>();
    // A set of what was seen: /proc is read process by process, and a reused pid could close a loop.
    Set<Long> seen = new HashSet<>(List.of(pid));
    Deque<Long> todo = new ArrayDeque<>(children.getOrDefault(pid, List.of()));
    while (!todo.isEmpty()) {
      long p = todo.poll();
      if (!seen.add(p) || "postgres".equals(comm.get(p))) {
        continue;
      }
      out.add(p);
      todo.addAll(children.getOrDefault(p, List.of()));
    }
    return out;
  }

  /**
   * CPU time of one process's threads over a window, to the nanosecond (a 60-s window of an idle agent holds
   * only a dozen 10-ms ticks). Sampled often enough, a thread that ends in the window loses at most the time
   * since the last sample; one that starts in it counts from zero. Once the process is gone nothing more is
   * counted, even if another process gets its pid.
   */
  static final class RuntimeMeter {
    private final long pid;
    private final long started;
    private final Map<Long, Long> first;
    private final Map<Long, Long> last;

    RuntimeMeter(long pid) {
      this.pid = pid;
      this.started = startTicks(pid);
      this.first = threadRuntimes(pid);
      this.last = new HashMap<>(first);
    }

    long pid() {
      return pid;
    }

    /** The process measured still runs under its pid. */
    boolean same() {
      return started >= 0 && startTicks(pid) == started;
    }

    void sample() {
      if (same()) {
        last.putAll(threadRuntimes(pid));
      }
    }

    long nanos() {
      long sum = 0;
      for (Map.Entry<Long, Long> e : last.entrySet()) {
        sum += e.getValue() - first.getOrDefault(e.getKey(), 0L);
      }
      return sum;
    }
  }
}
