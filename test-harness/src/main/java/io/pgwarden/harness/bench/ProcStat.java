package io.pgwarden.harness.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** RSS and CPU time of a process from /proc (Linux). */
final class ProcStat {
  /** USER_HZ; 100 on every Linux ABI the benchmarks run on. */
  static final int CLK_TCK = 100;

  private ProcStat() {}

  static double rssMiB(long pid) {
    try {
      for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (l.startsWith("VmRSS:")) {
          return Long.parseLong(l.replaceAll("\\D+", "")) / 1024.0;
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
      String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
      // after "pid (comm) ": state=0 ... utime=11 stime=12
      return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    } catch (IOException e) {
      return 0;
    }
  }
}
