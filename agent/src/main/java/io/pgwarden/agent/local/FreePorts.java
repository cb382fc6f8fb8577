package io.pgwarden.agent.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Free loopback ports; other things on the machine may hold the standard ones. */
public final class FreePorts {
  /**
   * Every port this process has handed out. A port is released as soon as it is chosen, so a later call
   * could get it again from the kernel before its first taker bound it: a PostgreSQL node was once given
   * its etcd's client port that way and never started.
   */
  private static final Set<Integer> GIVEN = new HashSet<>();
  private static final int MAX_TRIES = 1_000;

  private FreePorts() {}

  public static synchronized List<Integer> take(int n) {
    List<ServerSocket> held = new ArrayList<>();
    try {
      // All held until the end, so neither this call nor a skipped port can be handed back meanwhile.
      List<Integer> ports = new ArrayList<>();
      for (int tries = 0; ports.size() < n; tries++) {
        if (tries == MAX_TRIES) {
          throw new UncheckedIOException(new IOException("no new free loopback port in " + MAX_TRIES + " tries"));
        }
        ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        s.setReuseAddress(true);
        held.add(s);
        if (GIVEN.add(s.getLocalPort())) {
          ports.add(s.getLocalPort());
        }
      }
      return ports;
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port", e);
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
}
