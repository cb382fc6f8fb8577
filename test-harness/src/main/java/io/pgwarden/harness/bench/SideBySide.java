package io.pgwarden.harness.bench;

import static org.awaitility.Awaitility.await;

import io.pgwarden.common.json.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The side-by-side scenarios of issue 6, run the same way against any {@link BenchCluster}: power-off failover
 * gap with rejoin, planned switchover gap, idle footprint with etcd load, bootstrap. Observed from outside only.
 */
public final class SideBySide {
  /**
   * @param keyGoneMs from just before the SIGKILLs to the runner seeing the old leader's key deleted or taken
   *     over in etcd; null when its watch saw no such change
   * @param afterKeyMs from that sighting to the first acknowledged insert after the kill; null with keyGoneMs
   */
  public record FailoverRun(int run, long gapMs, long lostRows, long acked, String from, String to, long rejoinMs,
      String rejoinedBy, Long keyGoneMs, Long afterKeyMs) {
    @Override
    public String toString() {
      return "FailoverRun[run=" + run + ", gapMs=" + gapMs + ", lostRows=" + lostRows + ", acked=" + acked
          + ", from=" + from + ", to=" + to + ", rejoinMs=" + rejoinMs + ", rejoinedBy=" + rejoinedBy
          + ", keyGoneMs=" + orDash(keyGoneMs) + ", afterKeyMs=" + orDash(afterKeyMs) + "]";
    }
  }

  /** The key medians are over the runs that have the value (null when none has). */
  public record Failover(String tool, String settings, List<FailoverRun> runs, long minMs, long medianMs, long maxMs,
      Long keyGoneMedianMs, Long afterKeyMedianMs, long lost, long rejoinMedianMs, long rejoinMaxMs,
      String rejoinedBy, String error) {}

  /**
   * A power-off's gap split at the moment the runner saw the old leader's key go: the lease running out (and
   * the time the old leader last renewed it) before, what the tool adds once it is gone after (noticing,
   * election, promotion, the writer's reconnect). All three times are {@link System#nanoTime()} of this JVM,
   * the clock the writer stamps its acks with.
   */
  record KeyLife(Long keyGoneMs, Long afterKeyMs) {
    static final KeyLife MISSED = new KeyLife(null, null);

    /**
     * @param killNanos just before the SIGKILLs were sent
     * @param goneNanos when the key's deletion or takeover reached the runner; empty when the watch missed it
     * @param firstAckNanos the first ack after the kill (the end of the gap)
     */
    static KeyLife of(long killNanos, OptionalLong goneNanos, OptionalLong firstAckNanos) {
      // A change seen before the kill belongs to something else (a leader change the runner did not cause).
      if (goneNanos.isEmpty() || goneNanos.getAsLong() < killNanos) {
        return MISSED;
      }
      long gone = goneNanos.getAsLong();
      return new KeyLife((gone - killNanos) / 1_000_000,
          firstAckNanos.isPresent() ? (firstAckNanos.getAsLong() - gone) / 1_000_000 : null);
    }
  }

  /**
   * @param syncStandbyMs in synchronous mode, per switchover, from the new leader seen in etcd to its
   *     pg_stat_replication showing a synchronous standby streaming: how long it ran without one (empty: asynchronous)
   */
  public record Switchover(String tool, String settings, List<Long> gapsMs, long minMs, long medianMs, long maxMs,
      long lost, long acked, String error, List<Long> syncStandbyMs) {}

  /**
   * @param cpuPct from the agents' clock ticks (10 ms), as every earlier run measured it
   * @param cpuMsPerMin the same CPU time to the nanosecond, from each thread's schedstat
   * @param helpers per agent, the processes it keeps beside itself (pgwarden's watchdog): their RSS, PSS and CPU
   */
  public record Idle(String tool, String settings, int seconds, List<Double> rssMiB, List<Double> cpuPct,
      double rssMiBMax, double cpuPctMean, double etcdRpcsPerMemberMin, double etcdMsgsPerMemberMin,
      double etcdBytesPerMemberMin, Map<String, String> etcdByMethodPerMemberMin, List<Double> cpuMsPerMin,
      List<Helpers> helpers) {}

  /** An agent's helper processes together: how many, highest RSS and PSS (MiB) and CPU (ms a minute) of them. */
  public record Helpers(int processes, double rssMiB, double pssMiB, double cpuMsPerMin) {
    @Override
    public String toString() {
      return processes == 0 ? "none" : processes + ": " + rssMiB + " / " + pssMiB + " MiB, " + cpuMsPerMin + " ms";
    }
  }

  public record Bootstrap(String tool, String settings, long ms) {}

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).proxy(HttpClient.Builder.NO_PROXY).build();

  private SideBySide() {}

  /**
   * Starts a cluster and times nothing-to-3-streaming-members (etcd start included, what an installed
   * node does once per jar — pgwarden's class-data sharing archive — left out).
   */
  public static <C extends BenchCluster> C bootstrap(Supplier<C> start, String settings, List<Bootstrap> out) {
    long t0 = System.nanoTime();
    C c = start.get();
    try {
      await("3 streaming members").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(200))
          .until(() -> c.streamingCluster(false));
    } catch (RuntimeException e) {
      c.saveLogs(Path.of("target", "bench", "logs", c.tool() + "-bootstrap"));
      c.close();
      throw e;
    }
    long setup = c.oneOffSetup().toMillis();
    long ms = (System.nanoTime() - t0) / 1_000_000 - setup;
    System.out.println(c.tool() + " bootstrap (" + settings + "): " + ms + " ms"
        + (setup == 0 ? "" : " (and " + setup + " ms of one-off setup left out)"));
    out.add(new Bootstrap(c.tool(), settings, ms));
    return c;
  }

  static void awaitReady(BenchCluster c, String what) {
    await(what).atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(250)).until(c::ready);
  }

  private static void resetTable(BenchCluster c) throws SQLException {
    try (Connection con = c.connectPrimary(); Statement st = con.createStatement()) {
      st.execute("DROP TABLE IF EXISTS bench_writes");
    }
  }

  private static long missing(BenchCluster c, String node, List<Writer.Ack> acks) {
    if (acks.isEmpty()) {
      return 0;
    }
    String ids = acks.stream().map(a -> Long.toString(a.id())).collect(Collectors.joining(","));
    return c.query(node, "SELECT count(*) FROM bench_writes WHERE id IN (" + ids + ")")
        .map(p -> acks.size() - Long.parseLong(p)).orElse(-1L);
  }

  /**
   * How long a failover run lets a ready cluster run before the power-off: a fixed part plus a random one.
   * Right after a rejoin the leader is still reacting to it (pgwarden records the returned node as its
   * synchronous standby in short ticks, each renewing the lease), so a power-off at once tends to find a
   * fresh renewal; a steady cluster at a random point of the renewal cycle is what a power-off meets in
   * production.
   */
  static final Duration FAILOVER_SETTLE = Duration.ofSeconds(5);
  static final Duration FAILOVER_JITTER = Duration.ofSeconds(5);

  /** Power off the leader with the writer running; then restart it and time its rejoin. */
  public static Failover failover(BenchCluster c, String settings, int runs) {
    List<FailoverRun> out = new ArrayList<>();
    String error = null;
    try {
      for (int i = 1; i <= runs; i++) {
        awaitReady(c, c.tool() + " ready before failover " + i);
        // The delay is what is measured around, not a wait for a condition (that was awaitReady).
        Thread.sleep(FAILOVER_SETTLE.toMillis() + ThreadLocalRandom.current().nextLong(FAILOVER_JITTER.toMillis()));
        resetTable(c);
        String from = c.leader().orElseThrow();
        long gap;
        long lost;
        List<Writer.Ack> acks;
        String to;
        KeyLife life;
        try (LeaderKeyWatch keyWatch = watchLeaderKey(c, from); Writer w = new Writer(c, 20)) {
          await().atMost(Duration.ofSeconds(30)).until(() -> w.acks().size() >= 50);
          // The lease starts running out when the agent dies, so the key's life is timed from before the signals.
          long killStart = System.nanoTime();
          c.powerOff(from);
          // Taken once both processes are gone: kill(1) is spawned per signal, and an insert acknowledged by the
          // old primary while the signals were on their way must count as before the fault, not after it.
          long kill = System.nanoTime();
          java.time.Instant killWall = java.time.Instant.now();
          await(c.tool() + " writes again after power-off of " + from).atMost(Duration.ofMinutes(3))
              .pollInterval(Duration.ofMillis(100)).until(() -> w.ackedAfter(kill));
          w.close();
          gap = w.gapMillis(kill);
          acks = w.acks();
          life = KeyLife.of(killStart, keyWatch == null ? OptionalLong.empty() : keyWatch.goneAt(KEY_WAIT),
              w.firstAckAfter(kill));
          // Wall-clock marks to line the gap up with the agents' logs (-Dbench.keepLogs=true keeps them).
          System.out.println(c.tool() + " failover (" + settings + ") run " + i + ": " + from + " powered off at "
              + killWall + ", last ack " + w.millisBefore(kill) + " ms before and first ack " + w.millisAfter(kill)
              + " ms after both processes were seen gone (" + (kill - killStart) / 1_000_000 + " ms after the first "
              + "SIGKILL); leader key gone " + orDash(life.keyGoneMs()) + " ms after the first SIGKILL, first ack "
              + orDash(life.afterKeyMs()) + " ms after the key");
          await("a new leader").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(100))
              .until(() -> c.leader().filter(l -> !l.equals(from)).isPresent());
          to = c.leader().orElseThrow();
          lost = missing(c, to, acks);
        }
        String before = c.agentLog(from);
        long t0 = System.nanoTime();
        c.restart(from);
        String leader = to;
        await(from + " streams from " + leader).atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(200))
            .until(() -> c.streamingFrom(leader, from));
        long rejoin = (System.nanoTime() - t0) / 1_000_000;
        String since = c.agentLog(from).substring(Math.min(before.length(), c.agentLog(from).length()));
        String by = c.logShowsBaseBackup(since) ? "base backup" : c.logShowsRewind(since) ? "pg_rewind" : "restart only";
        FailoverRun r = new FailoverRun(i, gap, lost, acks.size(), from, to, rejoin, by, life.keyGoneMs(),
            life.afterKeyMs());
        System.out.println(c.tool() + " failover (" + settings + ") " + r);
        out.add(r);
      }
    } catch (Exception | AssertionError e) {
      error = e.toString();
      System.out.println(c.tool() + " failover (" + settings + ") FAILED: " + e);
    }
    if (error != null || Boolean.getBoolean("bench.keepLogs")) {
      c.saveLogs(Path.of("target", "bench", "logs", c.tool() + "-failover-" + settings.replaceAll("\\W+", "_")));
    }
    List<Long> gaps = out.stream().map(FailoverRun::gapMs).toList();
    List<Long> rejoins = out.stream().map(FailoverRun::rejoinMs).toList();
    String by = out.stream().collect(Collectors.groupingBy(FailoverRun::rejoinedBy, LinkedHashMap::new,
        Collectors.counting())).entrySet().stream().map(e -> e.getKey() + " x" + e.getValue())
        .collect(Collectors.joining(", "));
    return new Failover(c.tool(), settings, out, min(gaps), median(gaps), max(gaps),
        medianOfPresent(out.stream().map(FailoverRun::keyGoneMs).toList()),
        medianOfPresent(out.stream().map(FailoverRun::afterKeyMs).toList()),
        out.stream().mapToLong(FailoverRun::lostRows).sum(), median(rejoins), max(rejoins), by, error);
  }

  /** How long a run waits, once writes are back, for the key's deletion still to reach the runner. */
  static final Duration KEY_WAIT = Duration.ofSeconds(10);

  /**
   * A watch on the leader key held by {@code holder}, open before the power-off; null when it cannot be
   * opened, which costs the run its key times, not the run.
   */
  private static LeaderKeyWatch watchLeaderKey(BenchCluster c, String holder) {
    try {
      return LeaderKeyWatch.open(c.etcdEndpoints(), c.leaderKey(), holder, Duration.ofSeconds(10));
    } catch (RuntimeException e) {
      System.out.println(c.tool() + ": no watch on " + c.leaderKey() + ", key times of this run left out: " + e);
      return null;
    }
  }

  /** The tool's own switchover command with the writer running; the gap is the writer's longest pause. */
  public static Switchover switchover(BenchCluster c, String settings, int runs) {
    return switchover(c, settings, runs, false);
  }

  /** Every standby has received WAL on the leader's current timeline (its walreceiver restarted on it). */
  static boolean settled(BenchCluster c) {
    var l = c.leader();
    if (l.isEmpty()) {
      return false;
    }
    var tli = c.query(l.get(), "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int");
    return tli.isPresent() && c.nodes().stream().filter(n -> !n.equals(l.get())).allMatch(n ->
        c.query(n, "SELECT received_tli FROM pg_stat_wal_receiver WHERE status = 'streaming'").equals(tli));
  }

  /**
   * @param settle before each switchover also wait until every standby streams on the leader's timeline: a
   *     switchover right after the previous one otherwise measures how fast the target notices the new timeline
   */
  public static Switchover switchover(BenchCluster c, String settings, int runs, boolean settle) {
    List<Long> gaps = new ArrayList<>();
    List<Long> syncMs = new ArrayList<>();
    String error = null;
    long lost = -1;
    long acked = 0;
    boolean sync = c.synchronous();
    try {
      awaitReady(c, c.tool() + " ready before switchovers");
      resetTable(c);
      try (Writer w = new Writer(c, 20)) {
        await().atMost(Duration.ofSeconds(30)).until(() -> w.acks().size() >= 50);
        for (int i = 1; i <= runs; i++) {
          awaitReady(c, c.tool() + " ready before switchover " + i);
          if (settle) {
            await("standbys on the leader's timeline").atMost(Duration.ofMinutes(2))
                .pollInterval(Duration.ofMillis(250)).until(() -> settled(c));
          }
          String from = c.leader().orElseThrow();
          String to = c.switchoverTarget(from);
          long start = System.nanoTime();
          java.time.Instant startWall = java.time.Instant.now();
          c.switchover(from, to);
          await(to + " leads").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100))
              .until(() -> c.leader().map(to::equals).orElse(false));
          long led = System.nanoTime();
          await("writes resume").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(50))
              .until(() -> w.ackedAfter(led));
          long gap = w.maxGapMillis(start, System.nanoTime());
          if (sync) {
            await(to + " has a synchronous standby").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(20))
                .until(() -> c.query(to, "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'"
                    + " AND state = 'streaming'").map(n -> !"0".equals(n)).orElse(false));
            syncMs.add((System.nanoTime() - led) / 1_000_000);
          }
          // The wall-clock start lines the gap up with the agents' logs (-Dbench.keepLogs=true keeps them).
          System.out.println(c.tool() + " switchover (" + settings + ") " + i + " " + from + " -> " + to + ": " + gap
              + " ms (started " + startWall + ")");
          gaps.add(gap);
        }
        w.close();
        List<Writer.Ack> acks = w.acks();
        acked = acks.size();
        lost = missing(c, c.leader().orElseThrow(), acks);
      }
    } catch (Exception | AssertionError e) {
      error = e.toString();
      System.out.println(c.tool() + " switchover (" + settings + ") FAILED: " + e);
    }
    if (error != null || Boolean.getBoolean("bench.keepLogs")) {
      c.saveLogs(Path.of("target", "bench", "logs", c.tool() + "-switchover-" + settings.replaceAll("\\W+", "_")));
    }
    return new Switchover(c.tool(), settings, gaps, min(gaps), median(gaps), max(gaps), lost, acked, error, syncMs);
  }

  /**
   * RSS and CPU of every agent process and etcd requests over {@code seconds} of an idle, ready cluster, the
   * window opening {@code settleSeconds} after it was first seen ready.
   */
  public static Idle idle(BenchCluster c, String settings, int seconds, int settleSeconds) throws Exception {
    awaitReady(c, c.tool() + " ready before idle");
    if (settleSeconds > 0) {
      // Part of what is measured (a cluster that has sat idle for a while), not synchronisation.
      Thread.sleep(settleSeconds * 1000L);
      awaitReady(c, c.tool() + " still ready after " + settleSeconds + " s idle");
    }
    IdleWindow w = IdleWindow.open(c, settings);
    for (int s = 0; s < seconds; s += 5) {
      w.sample();
      Thread.sleep(5_000); // the sampling interval, not synchronisation
    }
    return w.close(seconds);
  }

  /**
   * One idle window of one cluster: opened, sampled every few seconds (RSS is a maximum over the samples), closed.
   * Several clusters' windows can be open at once, so that tools are measured in the same minute of a noisy machine.
   */
  public static final class IdleWindow {
    private final BenchCluster c;
    private final String settings;
    private final List<Long> pids;
    private final List<List<Long>> helperPids;
    private final Map<String, Double> m0;
    private final List<Long> cpu0;
    private final List<ProcStat.RuntimeMeter> meters;
    private final List<List<ProcStat.RuntimeMeter>> helperMeters;
    private final long t0;
    private final double[] rssMax;
    private final double[] helperRssMax;

    private IdleWindow(BenchCluster c, String settings) throws IOException, InterruptedException {
      this.c = c;
      this.settings = settings;
      pids = c.nodes().stream().map(c::agentPid).toList();
      // Taken when the window opens: a helper started inside it would be a change, not the idle state.
      helperPids = pids.stream().map(ProcStat::helperProcesses).toList();
      m0 = etcdMetrics(c);
      cpu0 = pids.stream().map(ProcStat::cpuTicks).toList();
      meters = pids.stream().map(ProcStat.RuntimeMeter::new).toList();
      helperMeters = helperPids.stream().map(l -> l.stream().map(ProcStat.RuntimeMeter::new).toList()).toList();
      t0 = System.nanoTime();
      rssMax = new double[pids.size()];
      helperRssMax = new double[pids.size()];
    }

    public static IdleWindow open(BenchCluster c, String settings) throws IOException, InterruptedException {
      return new IdleWindow(c, settings);
    }

    public void sample() {
      for (int i = 0; i < pids.size(); i++) {
        rssMax[i] = Math.max(rssMax[i], ProcStat.rssMiB(pids.get(i)));
        helperRssMax[i] = Math.max(helperRssMax[i], helperMeters.get(i).stream().filter(ProcStat.RuntimeMeter::same)
            .mapToDouble(m -> ProcStat.rssMiB(m.pid())).sum());
        meters.get(i).sample();
        helperMeters.get(i).forEach(ProcStat.RuntimeMeter::sample);
      }
    }

    /** @param seconds the window's nominal length, for the row (rates use the time it really took) */
    public Idle close(int seconds) throws IOException, InterruptedException {
      double minutes = (System.nanoTime() - t0) / 60e9;
      List<Long> cpu1 = pids.stream().map(ProcStat::cpuTicks).toList();
      Map<String, Double> m1 = etcdMetrics(c);
      List<Double> rss = new ArrayList<>();
      List<Double> cpu = new ArrayList<>();
      List<Double> cpuMs = new ArrayList<>();
      List<Helpers> helpers = new ArrayList<>();
      for (int i = 0; i < pids.size(); i++) {
        meters.get(i).sample();
        rss.add(round(Math.max(rssMax[i], ProcStat.rssMiB(pids.get(i)))));
        cpu.add(round(100.0 * (cpu1.get(i) - cpu0.get(i)) / ProcStat.CLK_TCK / (minutes * 60)));
        cpuMs.add(round(meters.get(i).nanos() / 1e6 / minutes));
        long helperNanos = 0;
        for (ProcStat.RuntimeMeter m : helperMeters.get(i)) {
          m.sample();
          helperNanos += m.nanos();
        }
        // Those still running as the window closes (by pid and start time: a pid may have been reused).
        List<Long> hp = helperMeters.get(i).stream().filter(ProcStat.RuntimeMeter::same)
            .map(ProcStat.RuntimeMeter::pid).toList();
        helpers.add(new Helpers(helperPids.get(i).size(),
            round(Math.max(helperRssMax[i], hp.stream().mapToDouble(ProcStat::rssMiB).sum())),
            round(hp.stream().mapToDouble(ProcStat::pssMiB).sum()), round(helperNanos / 1e6 / minutes)));
      }
      int n = pids.size();
      Map<String, String> byMethod = new java.util.TreeMap<>();
      for (String k : m1.keySet()) {
        if (k.startsWith("calls:")) {
          String method = k.substring("calls:".length());
          double calls = (m1.get(k) - m0.getOrDefault(k, 0.0)) / n / minutes;
          double msgs = (m1.getOrDefault("msgs:" + method, 0.0) - m0.getOrDefault("msgs:" + method, 0.0)) / n
              / minutes;
          if (round(calls) != 0 || round(msgs) != 0) {
            byMethod.put(method, round(calls) + "/" + round(msgs));
          }
        }
      }
      Idle r = new Idle(c.tool(), settings, seconds, rss, cpu, rss.stream().mapToDouble(d -> d).max().orElse(0),
          round(cpu.stream().mapToDouble(d -> d).average().orElse(0)),
          round((m1.get("rpcs") - m0.get("rpcs")) / n / minutes),
          round((m1.get("msgs") - m0.get("msgs")) / n / minutes),
          round((m1.get("bytes") - m0.get("bytes")) / n / minutes), byMethod, cpuMs, helpers);
      System.out.println(c.tool() + " idle (" + settings + "): " + r);
      return r;
    }
  }

  /**
   * Sums over etcd's /metrics: completed gRPC calls, gRPC messages received (also on streams), bytes received;
   * and per gRPC method "calls:METHOD" and "msgs:METHOD" (a stream counts as a call when it ends).
   */
  static Map<String, Double> etcdMetrics(BenchCluster c) throws IOException, InterruptedException {
    double rpcs = 0;
    double msgs = 0;
    double bytes = 0;
    Map<String, Double> out = new java.util.HashMap<>();
    for (String ep : c.etcdEndpoints()) {
      String body = HTTP.send(HttpRequest.newBuilder(URI.create(ep + "/metrics")).timeout(Duration.ofSeconds(5))
          .GET().build(), HttpResponse.BodyHandlers.ofString()).body();
      for (String line : body.split("\n")) {
        if (line.startsWith("#")) {
          continue;
        }
        double v = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        if (line.startsWith("grpc_server_handled_total{")) {
          rpcs += v;
          out.merge("calls:" + grpcMethod(line), v, Double::sum);
        } else if (line.startsWith("grpc_server_msg_received_total{")) {
          msgs += v;
          out.merge("msgs:" + grpcMethod(line), v, Double::sum);
        } else if (line.startsWith("etcd_network_client_grpc_received_bytes_total")) {
          bytes += v;
        }
      }
    }
    out.put("rpcs", rpcs);
    out.put("msgs", msgs);
    out.put("bytes", bytes);
    // A method that never completed a call still shows up with its messages.
    for (String k : List.copyOf(out.keySet())) {
      if (k.startsWith("msgs:")) {
        out.putIfAbsent("calls:" + k.substring("msgs:".length()), 0.0);
      }
    }
    return out;
  }

  private static String grpcMethod(String metricLine) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("grpc_method=\"([^\"]*)\"").matcher(metricLine);
    return m.find() ? m.group(1) : "?";
  }

  static long median(List<Long> xs) {
    if (xs.isEmpty()) {
      return -1;
    }
    List<Long> s = xs.stream().sorted().toList();
    return s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
  }

  /** The median of the non-null values; null when there is none. */
  static Long medianOfPresent(List<Long> xs) {
    List<Long> present = xs.stream().filter(Objects::nonNull).toList();
    return present.isEmpty() ? null : median(present);
  }

  /** A table cell for a median over runs some of which may lack the value: says how many had it then. */
  static String medianCell(List<Long> xs) {
    Long m = medianOfPresent(xs);
    if (m == null) {
      return "-";
    }
    long n = xs.stream().filter(Objects::nonNull).count();
    return n == xs.size() ? Long.toString(m) : m + " (" + n + " of " + xs.size() + " runs)";
  }

  static String orDash(Long ms) {
    return ms == null ? "-" : ms.toString();
  }

  static long min(List<Long> xs) {
    return xs.stream().mapToLong(x -> x).min().orElse(-1);
  }

  static long max(List<Long> xs) {
    return xs.stream().mapToLong(x -> x).max().orElse(-1);
  }

  static double round(double d) {
    return Math.round(d * 100) / 100.0;
  }

  // ---- report ----

  public record Report(Map<String, String> environment, String command, List<Bootstrap> bootstrap, List<Idle> idle,
      List<Switchover> switchover, List<Failover> failover) {}

  public static String markdown(Report r) {
    StringBuilder b = new StringBuilder();
    b.append("Environment: ").append(r.environment().entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
        .collect(Collectors.joining("; "))).append("\n\nCommand: `").append(r.command()).append("`\n\n");
    b.append("#### Power-off failover (writer every 20 ms; gap = last ack before the kill to first ack after)\n\n");
    b.append("| tool | settings | runs | gap min ms | gap median ms | gap max ms | key gone after kill median ms "
        + "| after the key median ms | acked rows lost | rejoin median ms | rejoin max ms | rejoined by | error |\n"
        + "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (Failover f : r.failover()) {
      b.append("| ").append(f.tool()).append(" | ").append(f.settings()).append(" | ").append(f.runs().size())
          .append(" | ").append(f.minMs()).append(" | ").append(f.medianMs()).append(" | ").append(f.maxMs())
          .append(" | ").append(medianCell(f.runs().stream().map(FailoverRun::keyGoneMs).toList()))
          .append(" | ").append(medianCell(f.runs().stream().map(FailoverRun::afterKeyMs).toList()))
          .append(" | ").append(f.lost()).append(" | ").append(f.rejoinMedianMs()).append(" | ")
          .append(f.rejoinMaxMs()).append(" | ").append(f.rejoinedBy()).append(" | ")
          .append(f.error() == null ? "" : f.error().replace("|", "/")).append(" |\n");
    }
    b.append("\n#### Planned switchover (same writer; gap = its longest pause)\n\n");
    b.append("| tool | settings | runs | gap min ms | gap median ms | gap max ms | acked rows lost (of) "
        + "| synchronous standby after the new leader, median / max ms | error |\n"
        + "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (Switchover s : r.switchover()) {
      b.append("| ").append(s.tool()).append(" | ").append(s.settings()).append(" | ").append(s.gapsMs().size())
          .append(" | ").append(s.minMs()).append(" | ").append(s.medianMs()).append(" | ").append(s.maxMs())
          .append(" | ").append(s.lost()).append(" (").append(s.acked()).append(") | ")
          .append(s.syncStandbyMs() == null || s.syncStandbyMs().isEmpty() ? "asynchronous"
              : median(s.syncStandbyMs()) + " / " + max(s.syncStandbyMs())).append(" | ")
          .append(s.error() == null ? "" : s.error().replace("|", "/")).append(" |\n");
    }
    b.append("\n#### Idle footprint and etcd load (per agent / per member, idle ready cluster)\n\n");
    b.append("| tool | settings | seconds | agent RSS MiB (each) | agent CPU % (each) | agent CPU ms/min (each) "
        + "| helper processes: RSS / PSS, CPU ms/min (each) | etcd gRPC calls /member/min "
        + "| etcd gRPC msgs /member/min | etcd bytes in /member/min | by method (calls/msgs /member/min) |\n"
        + "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (Idle i : r.idle()) {
      b.append("| ").append(i.tool()).append(" | ").append(i.settings()).append(" | ").append(i.seconds())
          .append(" | ").append(i.rssMiB()).append(" | ").append(i.cpuPct()).append(" | ")
          .append(i.cpuMsPerMin() == null ? "" : i.cpuMsPerMin()).append(" | ")
          .append(i.helpers() == null ? "" : i.helpers().stream().map(Helpers::toString)
              .collect(Collectors.joining("; ", "[", "]"))).append(" | ")
          .append(i.etcdRpcsPerMemberMin()).append(" | ").append(i.etcdMsgsPerMemberMin()).append(" | ")
          .append(i.etcdBytesPerMemberMin()).append(" | ").append(i.etcdByMethodPerMemberMin().entrySet().stream()
              .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "))).append(" |\n");
    }
    b.append("\n#### Bootstrap (nothing, etcd included, to 3 streaming members)\n\n| tool | settings | ms |\n"
        + "| --- | --- | --- |\n");
    for (Bootstrap s : r.bootstrap()) {
      b.append("| ").append(s.tool()).append(" | ").append(s.settings()).append(" | ").append(s.ms()).append(" |\n");
    }
    return b.toString();
  }

  public static void write(Path dir, String name, Report r) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(name + ".json"), Json.writePretty(r));
    Files.writeString(dir.resolve(name + ".md"), markdown(r));
  }
}
