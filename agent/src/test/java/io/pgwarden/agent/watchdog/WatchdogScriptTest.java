package io.pgwarden.agent.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watchdog's timing and its protocol, against a stand-in postmaster (a {@code sleep} whose
 * working directory is the data directory, named in postmaster.pid): fast, no PostgreSQL needed.
 * WatchdogIT does the same against a real one.
 */
class WatchdogScriptTest {
  @TempDir Path dir;
  private Path data;
  private Path bin;
  private Process postmaster;
  private final List<AutoCloseable> cleanup = new ArrayList<>();

  @BeforeEach
  void fakePostgres() throws IOException {
    data = Files.createDirectory(dir.resolve("data"));
    bin = Files.createDirectory(dir.resolve("bin"));
    // pg_ctl that confirms nothing: the watchdog must not depend on it.
    Path pgCtl = bin.resolve("pg_ctl");
    Files.writeString(pgCtl, "#!/bin/sh\nexit 1\n");
    Files.setPosixFilePermissions(pgCtl, PosixFilePermissions.fromString("rwxr-xr-x"));
    postmaster = new ProcessBuilder("sleep", "600").directory(data.toFile()).start();
    Files.writeString(data.resolve("postmaster.pid"), postmaster.pid() + "\n" + data + "\n");
  }

  @AfterEach
  void stopAll() throws Exception {
    for (AutoCloseable c : cleanup) {
      c.close();
    }
    postmaster.destroyForcibly();
  }

  private Watchdog watchdog() {
    Watchdog w = Watchdog.start(bin, data, dir);
    cleanup.add(() -> {
      w.close();
      ProcessHandle.of(w.pid()).ifPresent(ProcessHandle::destroyForcibly);
    });
    return w;
  }

  @Test
  void armedAndNeverFedItStopsThePostmasterAtTheDeadline() {
    Watchdog w = watchdog();
    long t0 = System.nanoTime();
    w.arm(Duration.ofMillis(1500));
    // The bound only says it fires at all; how late it fires on a loaded machine is printed, not asserted.
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(10)).until(() -> !postmaster.isAlive());
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.println("fake postmaster stopped " + ms + " ms after arm(1500 ms)");
    assertThat(ms).as("not before the deadline").isGreaterThanOrEqualTo(1300L);
    assertThat(w.alive()).as("it keeps running, disarmed, after firing").isTrue();
  }

  @Test
  void fedInTimeItLeavesThePostmasterAlone() {
    Watchdog w = watchdog();
    // Deadlines long enough that a stalled poll on a busy machine does not miss a feed.
    w.arm(Duration.ofSeconds(3));
    await().during(Duration.ofSeconds(8)).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
        .until(() -> {
          w.arm(Duration.ofSeconds(3));
          return postmaster.isAlive();
        });
    assertThat(w.alive()).isTrue();
  }

  @Test
  void aCleanCloseNeverStopsPostgres() {
    Watchdog w = watchdog();
    w.arm(Duration.ofSeconds(30));
    w.close();
    await().atMost(Duration.ofSeconds(20)).until(() -> ProcessHandle.of(w.pid()).isEmpty());
    assertThat(postmaster.isAlive()).isTrue();
    assertThat(w.alive()).isFalse();
  }

  @Test
  void aHangUpIsAnEndOfInputWithoutTheDisarm() {
    Watchdog armed = watchdog();
    armed.arm(Duration.ofSeconds(30));
    armed.hangUp();
    await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(10)).until(() -> !postmaster.isAlive());
  }

  @Test
  void aHangUpActsOnTheLastCommandItWasGiven() {
    Watchdog w = watchdog();
    w.arm(Duration.ofSeconds(30));
    w.disarm();
    w.hangUp();
    await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.of(w.pid()).isEmpty());
    assertThat(postmaster.isAlive()).isTrue();
  }

  @Test
  void disarmedAnEndOfInputLeavesPostgresRunning() throws Exception {
    Process p = raw();
    write(p, "arm " + (BootClock.PROC_UPTIME.centis() + 3000) + "\ndisarm\n");
    p.getOutputStream().close();
    await().atMost(Duration.ofSeconds(20)).until(() -> !p.isAlive());
    assertThat(p.exitValue()).isZero();
    assertThat(postmaster.isAlive()).isTrue();
  }

  @Test
  void armedAnEndOfInputMeansTheAgentDiedAndStopsPostgresAtOnce() throws Exception {
    Process p = raw();
    write(p, "arm " + (BootClock.PROC_UPTIME.centis() + 6000) + "\n");
    long t0 = System.nanoTime();
    p.getOutputStream().close();
    // Well before the 60-s deadline: the end of input fired it, not the deadline.
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(10)).until(() -> !postmaster.isAlive());
    System.out.println("fake postmaster stopped " + (System.nanoTime() - t0) / 1_000_000 + " ms after EOF");
  }

  @Test
  void aDeadlineAlreadyPastFiresAtOnce() throws Exception {
    Process p = raw();
    write(p, "arm " + (BootClock.PROC_UPTIME.centis() - 1) + "\n");
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(10)).until(() -> !postmaster.isAlive());
  }

  @Test
  void aStalePidFileOfSomeOtherProcessIsNotKilled() throws Exception {
    Process other = new ProcessBuilder("sleep", "600").directory(dir.toFile()).start();
    cleanup.add(other::destroyForcibly);
    Files.writeString(data.resolve("postmaster.pid"), other.pid() + "\n");
    Process p = raw();
    write(p, "arm 1\n");
    p.getOutputStream().close();
    await().atMost(Duration.ofSeconds(20)).until(() -> !p.isAlive());
    assertThat(other.isAlive()).isTrue();
    assertThat(Files.readString(dir.resolve("data.watchdog.log"))).contains("no postmaster of");
  }

  @Test
  void garbageIsIgnored() throws Exception {
    Process p = raw();
    write(p, "arm soon\nhello\narm\n");
    p.getOutputStream().close();
    await().atMost(Duration.ofSeconds(20)).until(() -> !p.isAlive());
    assertThat(p.exitValue()).isZero();
    assertThat(postmaster.isAlive()).isTrue();
  }

  @Test
  void aKilledWatchdogIsNoticedAndFeedingItNeverBlocksNorThrows() {
    Watchdog w = watchdog();
    w.arm(Duration.ofSeconds(30));
    ProcessHandle.of(w.pid()).orElseThrow().destroyForcibly();
    await().atMost(Duration.ofSeconds(20)).until(() -> !w.alive());
    for (int i = 0; i < 10_000; i++) { // far more than a pipe holds
      w.arm(Duration.ofSeconds(30));
    }
    w.disarm();
    assertThat(w.alive()).isFalse();
    assertThat(postmaster.isAlive()).as("its death alone never stops PostgreSQL").isTrue();
  }

  @Test
  void aFrozenWatchdogIsNotAlive() throws Exception {
    Watchdog w = watchdog();
    w.arm(Duration.ofSeconds(30));
    new ProcessBuilder("kill", "-STOP", Long.toString(w.pid())).start().waitFor();
    try {
      await().atMost(Duration.ofSeconds(20)).until(() -> !w.alive());
      for (int i = 0; i < 10_000; i++) { // fills the pipe: the writer thread blocks, we must not
        w.arm(Duration.ofSeconds(30));
      }
    } finally {
      new ProcessBuilder("kill", "-CONT", Long.toString(w.pid())).start().waitFor();
    }
    await().atMost(Duration.ofSeconds(20)).until(w::alive);
  }

  @Test
  void itRunsInItsOwnSessionSoAGroupSignalToTheAgentMissesIt() throws Exception {
    Watchdog w = watchdog();
    // setsid(2) runs right after the fork: look once it had the chance to.
    await().atMost(Duration.ofSeconds(10)).until(() -> sessionOf(w.pid()).equals(Long.toString(w.pid())));
    String stat = Files.readString(Path.of("/proc/" + w.pid() + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    String mine = Files.readString(Path.of("/proc/self/stat"));
    String[] g = mine.substring(mine.lastIndexOf(')') + 2).split(" ");
    assertThat(f[3]).as("session id").isEqualTo(Long.toString(w.pid())).isNotEqualTo(g[3]);
    assertThat(f[2]).as("process group").isNotEqualTo(g[2]);
  }

  private static String sessionOf(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[3];
  }

  /** The script alone, with a pipe we control, as the agent would hold it. */
  private Process raw() throws IOException {
    Watchdog w = watchdog(); // installs the script
    w.close();
    Process p = new ProcessBuilder("bash", dir.resolve("data.watchdog.sh").toString(), data.toString(), bin.toString())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("data.watchdog.log").toFile()))
        .start();
    cleanup.add(p::destroyForcibly);
    return p;
  }

  private static void write(Process p, String s) throws IOException {
    OutputStream out = p.getOutputStream();
    out.write(s.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }
}
