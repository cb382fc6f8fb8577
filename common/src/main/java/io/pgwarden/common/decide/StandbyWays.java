package io.pgwarden.common.decide;

import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.LocalPgState;
import io.pgwarden.common.model.StandbyOnItsWay;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * How long each standby has been on its way ({@link Decider#standbysOnTheirWay}), timed per member,
 * whatever its states, through absences shorter than {@link #STEADY_FOR}, and per tenure as the holder.
 * Pure: the caller feeds each tick's view and monotonic time; not thread-safe (the loop thread owns it).
 */
public final class StandbyWays {
  /**
   * How long a standby hurries the holder (Decider: every 500 ms, not loop_wait) after its way began:
   * each hurried tick costs a probe and a lease renewal. A WAL receiver connects within a second or two
   * of its start, or at one of its next retries (wal_retrieve_retry_interval: 1 s as pgwarden sets it, PostgreSQL's default 5 s); six of
   * those have passed after 30 s. A standby still on its way then is stuck (a bad primary_conninfo,
   * pg_hba refusing it), busy for long (a big base backup) or flapping, and loop_wait is pace enough.
   */
  public static final Duration HURRY_FOR = Duration.ofSeconds(30);
  /**
   * How long a member must stay off {@link Decider#standbysOnTheirWay} (streaming from me, recorded, or
   * gone) before its way counts as ended; until then, coming back continues its old way. So however a
   * replica's WAL receiver flaps, it hurries the holder for at most {@link #HURRY_FOR} per way, and its
   * ways start at least five minutes apart; timed per state, or forgotten at once, it would start another
   * 30 s at every reconnect and hold the holder at the fast pace for good. The price: a member that
   * really rejoins within five minutes of its last way is seen within loop_wait, not 500 ms.
   */
  public static final Duration STEADY_FOR = Duration.ofMinutes(5);

  /**
   * A member's way, on the monotonic clock: when it began, and since when the member has been off the
   * list (null while it is on it).
   */
  private record Way(long sinceNanos, Long offSinceNanos) {}

  /** Each member on its way, or off it for less than {@link #STEADY_FOR}, by name. */
  private Map<String, Way> ways = Map.of();

  /** Whether any of these standbys is still in its first {@link #HURRY_FOR} on its way. */
  public static boolean hurries(List<StandbyOnItsWay> onTheirWay) {
    return onTheirWay.stream().anyMatch(s -> s.onItsWayFor().compareTo(HURRY_FOR) < 0);
  }

  /**
   * One tick.
   *
   * @param view this tick's cluster view
   * @param local this tick's local PostgreSQL state
   * @param me this node's name
   * @param nowNanos the monotonic clock now
   * @return the standbys on their way, by name, each with how long it has been on it; empty when etcd
   *     could not be read or {@code me} does not hold the leader key
   */
  public List<StandbyOnItsWay> track(ClusterView view, LocalPgState local, String me, long nowNanos) {
    if (!view.reachable()) {
      // Nothing to judge by: an etcd blip neither starts nor ends a way.
      return List.of();
    }
    if (!view.isLeader(me)) {
      // Ways are timed per tenure: a holder that lost the key and got it back (a switchover there and
      // back within minutes) hurries for its standbys again, as after any promotion.
      ways = Map.of();
      return List.of();
    }
    SortedMap<String, List<String>> onTheirWay = Decider.standbysOnTheirWay(view, local, me);
    long steady = STEADY_FOR.toNanos();
    Map<String, Way> next = new HashMap<>();
    List<StandbyOnItsWay> out = new ArrayList<>();
    onTheirWay.forEach((name, states) -> {
      Way w = ways.get(name);
      // Compared by subtraction: nanoTime may wrap.
      boolean ended = w == null || (w.offSinceNanos() != null && nowNanos - w.offSinceNanos() >= steady);
      long since = ended ? nowNanos : w.sinceNanos();
      next.put(name, new Way(since, null));
      out.add(new StandbyOnItsWay(name, states, Duration.ofNanos(nowNanos - since)));
    });
    ways.forEach((name, w) -> {
      if (!onTheirWay.containsKey(name)) {
        long off = w.offSinceNanos() == null ? nowNanos : w.offSinceNanos();
        if (nowNanos - off < steady) {
          next.put(name, new Way(w.sinceNanos(), off));
        }
      }
    });
    ways = next;
    return out;
  }
}
