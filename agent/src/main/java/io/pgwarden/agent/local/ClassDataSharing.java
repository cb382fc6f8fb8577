package io.pgwarden.agent.local;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A class-data sharing archive of the agent's classes (JDK "AppCDS"): the JVM maps their parsed form
 * from the archive instead of reading and parsing ~6,000 classes from the jar, which takes an idle
 * agent ~2.5 MiB less memory and starts it faster (docs/benchmarks.md, "Idle RSS").
 *
 * <p>The archive is made with {@code -Xshare:dump} from the class list in this jar (the classes an
 * agent loaded in a real cluster) by the JVM that will run the agent, and fits only that JVM and that
 * jar at that path: the JVM checks both when it maps it, and without a match it runs the agent
 * without sharing, which costs memory, never function. So whoever starts agents — {@code bin/pgwarden
 * agent}, {@code pgwarden local up} — makes it once per jar and JVM, names it by both, and passes
 * {@code -XX:SharedArchiveFile}.
 */
public final class ClassDataSharing {
  /** Made by an agent with -XX:DumpLoadedClassList (docs/benchmarks.md, "Idle RSS", says how). */
  static final String CLASS_LIST = "agent.classlist";
  // ~4 s on an idle 2-core machine; an agent's start waits for it, so not for long.
  private static final long DUMP_TIMEOUT_SECONDS = 60;
  // Each of the shutdown hook's two waits: well inside systemd's TimeoutStopSec (90 s by default), after
  // which it kills what is left.
  private static final long STOP_WAIT_SECONDS = 10;

  private ClassDataSharing() {}

  /** The JVM option that maps {@code archive}. */
  public static String option(Path archive) {
    return "-XX:SharedArchiveFile=" + archive;
  }

  /**
   * Makes {@code archive} for agents started with {@code -jar jar} by this JVM. The archive appears
   * whole or not at all (several agents may start at once).
   *
   * @throws IOException when it cannot be made; nothing is left behind
   * @throws ShuttingDown when this JVM began to shut down meanwhile (a subclass of IOException)
   */
  public static void dump(Path jar, Path archive) throws IOException {
    Path dir = archive.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    // A SIGTERM to this JVM (systemd stopping the unit, Ctrl-C on `pgwarden local up`) skips the finally
    // below, and the dumping JVM, a process of its own, would write on into a work directory that our
    // caller (bin/pgwarden's trap) removes as soon as we are gone. The hook ends it and lets the clean-up
    // here run first.
    Child child = new Child();
    Thread hook = new Thread(child::stop, "pgwarden-cds-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      dumpIn(dir, jar, archive, child);
    } catch (IOException | RuntimeException e) {
      if (child.stopped()) {
        // Killed by the hook, not failed: nothing to report, the process is on its way out.
        throw new ShuttingDown(e);
      }
      throw e;
    } finally {
      child.finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // The hook runs (or ran) and waits for the countdown above; nothing to remove.
      }
    }
  }

  private static void dumpIn(Path dir, Path jar, Path archive, Child child) throws IOException {
    // The JVM writes the archive to a name we give it, so the name must be one nobody else can create
    // or swap first (the directory may be writable by others): inside a directory only we can enter,
    // on the archive's file system so that the move into place is atomic.
    Path work = Files.createTempDirectory(dir, ".pgwarden-cds-",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path list = work.resolve("classlist");
    Path output = work.resolve("dump.log");
    Path partial = work.resolve("archive.jsa");
    try {
      try (InputStream in = ClassDataSharing.class.getResourceAsStream(CLASS_LIST)) {
        if (in == null) {
          throw new IOException("this build has no class list (" + CLASS_LIST + ")");
        }
        Files.copy(in, list, StandardCopyOption.REPLACE_EXISTING);
      }
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Process p = child.start(new ProcessBuilder(List.of(java, "-Xshare:dump", "-XX:SharedClassListFile=" + list,
          "-XX:SharedArchiveFile=" + partial, "-cp", jar.toAbsolutePath().toString()))
          .redirectErrorStream(true).redirectOutput(output.toFile()));
      if (!p.waitFor(DUMP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        // Dead before the work directory goes, so that it creates nothing in it after.
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new IOException("java -Xshare:dump did not finish in " + DUMP_TIMEOUT_SECONDS + " s");
      }
      if (p.exitValue() != 0 || !Files.isRegularFile(partial)) {
        // Any bytes: the JVM's own messages, in whatever encoding; the last few lines carry the error.
        List<String> lines = Files.readAllLines(output, StandardCharsets.ISO_8859_1);
        throw new IOException("java -Xshare:dump exited with " + p.exitValue()
            + (lines.isEmpty() ? "" : ": " + String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()))));
      }
      // Agents may run as another user than the one who made it; the JVM only reads it.
      Files.setPosixFilePermissions(partial, PosixFilePermissions.fromString("rw-r--r--"));
      Files.move(partial, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while making " + archive, e);
    } finally {
      deleteTree(work);
    }
  }

  /** The dump did not fail: this JVM is shutting down and ended it. */
  public static final class ShuttingDown extends IOException {
    ShuttingDown(Throwable cause) {
      super("shutting down", cause);
    }
  }

  /** The dumping JVM, which the shutdown hook ends; none starts once the hook has run. */
  private static final class Child {
    final CountDownLatch finished = new CountDownLatch(1);
    private Process process;
    private boolean stopped;

    synchronized Process start(ProcessBuilder pb) throws IOException {
      if (stopped) {
        throw new IOException("this JVM is shutting down");
      }
      process = pb.start();
      return process;
    }

    synchronized boolean stopped() {
      return stopped;
    }

    void stop() {
      Process p;
      synchronized (this) {
        stopped = true;
        p = process;
      }
      try {
        if (p != null) {
          // SIGKILL: a dumping JVM may not act on SIGTERM before it has written the archive, which would
          // only be thrown away.
          p.destroyForcibly().waitFor(STOP_WAIT_SECONDS, TimeUnit.SECONDS);
        }
        // The dump's own clean-up, which goes on once waitFor sees the child gone; the JVM halts when
        // the hooks are done, whether it finished or not.
        finished.await(STOP_WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // Whatever a dump stopped midway left there too, not only the files named above.
  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(f);
      }
    }
  }

  /** For bin/pgwarden: {@code ClassDataSharing JAR ARCHIVE}; exit status 0 when the archive was made. */
  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: java -cp pgwarden.jar " + ClassDataSharing.class.getName() + " JAR ARCHIVE");
      System.exit(2);
    }
    try {
      dump(Path.of(args[0]), Path.of(args[1]));
    } catch (ShuttingDown e) {
      // A SIGTERM or Ctrl-C: the agent is not starting at all, so "starts without it" would mislead.
      return;
    } catch (IOException | RuntimeException e) {
      System.err.println("pgwarden: no class-data sharing archive at " + args[1] + " (" + e
          + "); the agent starts without it, which costs memory, not function");
      System.exit(1);
    }
  }
}
