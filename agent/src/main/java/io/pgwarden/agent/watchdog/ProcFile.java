package io.pgwarden.agent.watchdog;

import java.io.Closeable;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A file under /proc, read again and again through one open descriptor: a seek and a read. A leader reads two
 * of them every tick (the boot clock, its watchdog's state), and opening each anew through NIO's channels cost
 * ~4 % of its loop thread apiece (async-profiler). /proc makes the text afresh whenever it is read from the
 * start. A read that fails closes the descriptor, and the next one opens the file again. Thread-safe.
 */
public final class ProcFile implements Closeable {
  private final Path path;
  private RandomAccessFile file;
  private byte[] buffer = new byte[1024];

  public ProcFile(Path path) {
    this.path = path;
  }

  /** The whole text, as Latin-1 (a plain copy of the bytes; what is read from these files is ASCII). */
  public synchronized String read() throws IOException {
    if (file == null) {
      file = new RandomAccessFile(path.toFile(), "r");
    }
    try {
      file.seek(0);
      int n = 0;
      for (int r; (r = file.read(buffer, n, buffer.length - n)) > 0; ) {
        n += r;
        if (n == buffer.length) {
          buffer = Arrays.copyOf(buffer, buffer.length * 2);
        }
      }
      return new String(buffer, 0, n, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      close();
      throw e;
    }
  }

  @Override
  public synchronized void close() {
    if (file != null) {
      try {
        file.close();
      } catch (IOException e) {
        // Nothing was written through it: nothing is lost.
      }
      file = null;
    }
  }

  @Override
  public String toString() {
    return path.toString();
  }
}
