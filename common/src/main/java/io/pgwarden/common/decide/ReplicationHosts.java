package io.pgwarden.common.decide;

import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.Member;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Where replication connections may come from: the hosts of every live member's published {@code
 * conn_url} (its key bound to a lease, see {@link ClusterView#liveMembers()}), plus loopback.
 * pg_hba.conf allows the replication role from these only, so the set follows cluster membership.
 * Pure: the same cluster view always gives the same set.
 */
public final class ReplicationHosts {
  public static final Set<String> LOOPBACK = Set.of("127.0.0.1", "::1");
  // A host name or address, nothing a pg_hba.conf line could be made to say more with. Compiled once:
  // every tick checks every member's host.
  private static final Pattern SAFE_HOST = Pattern.compile("[A-Za-z0-9][A-Za-z0-9.:-]*");

  private ReplicationHosts() {}

  /** The last view asked about and its answer. */
  private record Answer(ClusterView view, Set<String> hosts) {}

  private static volatile Answer last;

  /** The hosts, sorted; unmodifiable. */
  public static Set<String> wanted(ClusterView c) {
    // An idle agent asks twice a tick about a view that changes only when the cluster does (the parser hands
    // out the same object for an unchanged scope): remembered by identity, since the view is immutable.
    Answer a = last;
    if (a != null && a.view() == c) {
      return a.hosts();
    }
    Set<String> out = new TreeSet<>(LOOPBACK);
    for (Member m : c.liveMembers()) {
      String host = hostOf(m.status().connUrl());
      if (host != null) {
        out.add(host);
      }
    }
    Set<String> hosts = Collections.unmodifiableSet(out);
    last = new Answer(c, hosts);
    return hosts;
  }

  /** The host of {@code host:port} ({@code [v6]:port} too); null when absent or not a plain host. */
  static String hostOf(String connUrl) {
    if (connUrl == null) {
      return null;
    }
    int colon = connUrl.lastIndexOf(':');
    if (colon <= 0) {
      return null;
    }
    String host = connUrl.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return SAFE_HOST.matcher(host).matches() ? host : null;
  }
}
