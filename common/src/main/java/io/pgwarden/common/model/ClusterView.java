package io.pgwarden.common.model;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One consistent read of the scope in etcd (a single range at one revision). Unparsable values
 * arrive as errors, never as guesses: the decider refuses to promote on them.
 *
 * @param initialize the cluster's system identifier; "" while the first node bootstraps; null when
 *     nobody has claimed the cluster yet
 * @param config the last valid dynamic config (the agent keeps it when etcd holds garbage)
 * @param errors one line per value that could not be parsed, naming the key and field
 * @param switchover a pending planned switchover or forced failover; null when none
 */
public record ClusterView(
    boolean reachable,
    String unreachableReason,
    long revision,
    String initialize,
    LeaderRecord leader,
    Map<String, Member> members,
    Topology topology,
    List<HistoryEntry> history,
    DynamicConfig config,
    List<String> errors,
    Switchover switchover) {

  /** Without a pending switchover. */
  public ClusterView(boolean reachable, String unreachableReason, long revision, String initialize,
      LeaderRecord leader, Map<String, Member> members, Topology topology, List<HistoryEntry> history,
      DynamicConfig config, List<String> errors) {
    this(reachable, unreachableReason, revision, initialize, leader, members, topology, history, config, errors, null);
  }

  public ClusterView {
    members = members == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(members));
    history = history == null ? List.of() : List.copyOf(history);
    config = config == null ? DynamicConfig.DEFAULTS : config;
    errors = errors == null ? List.of() : List.copyOf(errors);
  }

  public static ClusterView unreachable(String why, DynamicConfig lastConfig) {
    return new ClusterView(false, why, 0, null, null, null, null, null, lastConfig, null);
  }

  public boolean hasLeader() {
    return leader != null;
  }

  public boolean isLeader(String name) {
    return leader != null && leader.holder().equals(name);
  }

  /**
   * The members whose key is bound to an etcd lease: the live agents. Only these get replication
   * slots, count as synchronous standbys, hand-over targets and failover rivals, and may replicate
   * per pg_hba.conf; a key written without a lease (by hand, by a foreign process) would otherwise
   * stay forever and, for instance, make the primary retain WAL for a slot nobody consumes.
   */
  public Collection<Member> liveMembers() {
    // A loop, not a stream: every tick asks, and an idle agent runs this code interpreted.
    List<Member> live = new ArrayList<>(members.size());
    for (Member m : members.values()) {
      if (m.leaseBound()) {
        live.add(m);
      }
    }
    return Collections.unmodifiableList(live);
  }

  /** Names of members whose key is bound to no lease, sorted; see {@link #liveMembers()}. */
  public List<String> unboundMembers() {
    return members.values().stream().filter(m -> !m.leaseBound()).map(Member::name).toList();
  }

  public MemberStatus member(String name) {
    Member m = members.get(name);
    return m == null ? null : m.status();
  }

  /** The cluster's latest timeline, as recorded by lock holders; 0 when nothing is recorded. */
  public long latestTimeline() {
    long tl = topology == null ? 0 : topology.timeline();
    for (HistoryEntry h : history) {
      tl = Math.max(tl, h.timeline());
    }
    return tl;
  }

  /** Where {@code parent} ended, as recorded in history; null when not recorded. */
  public Lsn switchPointOf(long parent) {
    for (HistoryEntry h : history) {
      if (h.timeline() == parent + 1 && h.switchLsn() != null) {
        return h.switchLsn();
      }
    }
    return null;
  }
}
