package io.pgwarden.agent.port;

/** The primary a replica clones from, rewinds from or streams from. */
public record ReplicationSource(String name, String host, int port) {
  public static ReplicationSource parse(String name, String connUrl) {
    int colon = connUrl.lastIndexOf(':');
    return new ReplicationSource(name, connUrl.substring(0, colon), Integer.parseInt(connUrl.substring(colon + 1)));
  }

  public String hostPort() {
    return host + ":" + port;
  }
}
