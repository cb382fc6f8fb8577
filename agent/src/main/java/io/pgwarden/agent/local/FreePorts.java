package io.pgwarden.agent.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/** Free loopback ports; other things on the machine may hold the standard ones. */
public final class FreePorts {
  private FreePorts() {}

  public static List<Integer> take(int n) {
    List<ServerSocket> held = new ArrayList<>();
    try {
      // Held together so one call never returns the same port twice.
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        s.setReuseAddress(true);
        held.add(s);
      }
      List<Integer> ports = new ArrayList<>();
      for (ServerSocket s : held) {
        ports.add(s.getLocalPort());
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
