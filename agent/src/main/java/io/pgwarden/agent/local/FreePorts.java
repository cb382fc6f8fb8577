package io.pgwarden.agent.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/** Free loopback ports; other things on the machine may hold the standard ones. */
public final class FreePorts {
  /**
   * Every port this process has handed out. A port is released as soon as it is chosen, so a later call
   * could get it again before its first taker bound it: a PostgreSQL node was once given its etcd's client
   * port that way and never started.
   */
  private static final Set<Integer> GIVEN = new HashSet<>();
  private static final int MAX_TRIES = 1_000;
  private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
  /** Below this, ports are more likely to be some installed service's. */
  static final int LOWEST = 10_000;

  private FreePorts() {}

  /**
   * {@code n} ports free on loopback now, chosen outside the kernel's ephemeral range. A port the kernel
   * picks for {@code bind(0)} comes from the range it also gives every outgoing connection its source port
   * from; between the choice and the server's own bind (a JVM or etcd starting, a second or so), any
   * connection on the machine could take it, and the server then failed with "Address already in use".
   */
  public static synchronized List<Integer> take(int n) {
    int[] range = candidates(ephemeralRange());
    List<ServerSocket> held = new ArrayList<>();
    try {
      // All held until the end, so neither this call nor a skipped port can be handed back meanwhile.
      List<Integer> ports = new ArrayList<>();
      for (int tries = 0; ports.size() < n; tries++) {
        if (tries == MAX_TRIES) {
          throw new UncheckedIOException(new IOException("no new free loopback port in " + MAX_TRIES
              + " tries between " + range[0] + " and " + range[1]));
        }
        int port = ThreadLocalRandom.current().nextInt(range[0], range[1] + 1);
        if (GIVEN.contains(port)) {
          continue;
        }
        ServerSocket s = bound(port);
        if (s != null) {
          held.add(s);
          GIVEN.add(port);
          ports.add(port);
        }
      }
      return ports;
    } finally {
      for (ServerSocket s : held) {
        try {
          s.close();
        } catch (IOException ignored) {
          // nothing to do: the port is released either way
        }
      }
    }
  }

  /**
   * Whether a server could listen on {@code port} on loopback now. Bound the way PostgreSQL and etcd bind
   * (SO_REUSEADDR), so that connections a stopped cluster left in TIME_WAIT do not count: only a listener does.
   */
  public static boolean isFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
      return true;
    } catch (IOException busy) {
      return false;
    }
  }

  /** The port bound on loopback, or null when anything holds it (also a connection in TIME_WAIT). */
  private static ServerSocket bound(int port) {
    ServerSocket s = null;
    try {
      s = new ServerSocket();
      s.setReuseAddress(false);
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
      return s;
    } catch (IOException busy) {
      if (s != null) {
        try {
          s.close();
        } catch (IOException ignored) {
          // never bound: nothing held
        }
      }
      return null;
    }
  }

  /** The kernel's ephemeral port range, low and high; Linux's default when it cannot be read. */
  static int[] ephemeralRange() {
    try {
      String[] f = Files.readString(EPHEMERAL_RANGE).trim().split("\\s+");
      return new int[] {Integer.parseInt(f[0]), Integer.parseInt(f[1])};
    } catch (IOException | RuntimeException e) {
      return new int[] {32768, 60999};
    }
  }

  /**
   * Where to choose from, given the ephemeral range: below it from {@link #LOWEST}, or above it when that
   * leaves more room (a range set low), or, should the range leave neither ~1,000 ports, the ports
   * above {@link #LOWEST} anyway.
   */
  static int[] candidates(int[] ephemeral) {
    int below = ephemeral[0] - LOWEST;
    int above = 65535 - ephemeral[1];
    if (Math.max(below, above) < 1_000) {
      return new int[] {LOWEST, 65535};
    }
    return below >= above ? new int[] {LOWEST, ephemeral[0] - 1} : new int[] {ephemeral[1] + 1, 65535};
  }
}
