package io.pgwarden.common.decide;

import static io.pgwarden.common.testing.Observations.connUrl;
import static io.pgwarden.common.testing.Observations.member;
import static io.pgwarden.common.testing.Observations.node;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.common.model.Observation;
import io.pgwarden.common.model.StandbyOnItsWay;
import io.pgwarden.common.model.SynchronousMode;
import io.pgwarden.common.testing.FakeClock;
import io.pgwarden.common.testing.Observations;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The holder hurries (Decider: every 500 ms, not loop_wait) only in the first 30 s of a member's way to
 * being a synchronous standby. Ticks every 2 s (loop_wait) unless a test says otherwise.
 */
class StandbyWaysTest {
  private static final Duration TICK = Duration.ofSeconds(2);
  private static final Duration HALF_SECOND = Duration.ofMillis(500);

  private FakeClock clock = new FakeClock();
  private final StandbyWays ways = new StandbyWays();
  /** The other members as the next tick sees them, by name. */
  private final Map<String, Observations.MemberBuilder> members = new TreeMap<>();

  /**
   * A stuck replica hurries the holder for its first 30 s, then costs loop_wait; a new member starts
   * another 30 s beside it, and so does the same member once it has been off the way for five minutes,
   * but not when it is back a second after it left.
   */
  @Test
  void aMemberHurriesTheHolderOnlyInTheFirst30SecondsOfItsWay() {
    notStreaming("n3");
    List<StandbyOnItsWay> first = tick();
    assertThat(first).containsExactly(new StandbyOnItsWay("n3", List.of("not streaming from me"), Duration.ZERO));
    assertThat(StandbyWays.hurries(first)).isTrue();
    clock.advance(Duration.ofSeconds(29));
    assertThat(StandbyWays.hurries(tick())).isTrue();
    clock.advance(Duration.ofSeconds(1));
    List<StandbyOnItsWay> stuck = tick();
    assertThat(stuck)
        .containsExactly(new StandbyOnItsWay("n3", List.of("not streaming from me"), Duration.ofSeconds(30)));
    assertThat(StandbyWays.hurries(stuck)).isFalse();
    clock.advance(Duration.ofSeconds(600));
    assertThat(StandbyWays.hurries(tick())).isFalse();

    notStreaming("n4"); // a new member joins beside the stuck one
    clock.advance(Duration.ofSeconds(1));
    assertThat(ages(tick())).containsOnlyKeys("n3", "n4").containsEntry("n4", Duration.ZERO);
    clock.advance(Duration.ofSeconds(5));
    assertThat(StandbyWays.hurries(tick())).isTrue();
    clock.advance(Duration.ofSeconds(25));
    assertThat(StandbyWays.hurries(tick())).isFalse();

    members.clear();
    clock.advance(Duration.ofSeconds(1));
    assertThat(tick()).as("nobody on the way").isEmpty();
    notStreaming("n3"); // n3 is back a second later, still unable to stream: the same way
    clock.advance(Duration.ofSeconds(1));
    List<StandbyOnItsWay> back = tick();
    assertThat(ages(back).get("n3")).isGreaterThan(Duration.ofSeconds(600));
    assertThat(StandbyWays.hurries(back)).isFalse();

    members.clear();
    clock.advance(Duration.ofSeconds(1));
    tick();
    clock.advance(StandbyWays.STEADY_FOR);
    notStreaming("n3"); // back after five minutes away: a new way
    List<StandbyOnItsWay> anew = tick();
    assertThat(ages(anew)).containsExactly(Map.entry("n3", Duration.ZERO));
    assertThat(StandbyWays.hurries(anew)).isTrue();
  }

  /**
   * A replica whose WAL receiver keeps reconnecting (3 s without streaming, 3 s streaming, for ten minutes)
   * hurries the holder only in the first 30 s: each reconnect continues its way rather than starting one.
   * Four minutes of steady streaming do not end the way; five do, and the next break hurries again.
   */
  @Test
  void aFlappingReplicaHurriesTheHolderOnlyInTheFirst30SecondsOfItsWay() {
    long start = clock.nanoTime();
    long lastHurried = -1;
    int flaps = 0;
    // Every 500 ms, the holder's pace while it hurries or sets a streaming standby in PostgreSQL.
    while (clock.nanoTime() - start < Duration.ofMinutes(10).toNanos()) {
      boolean streaming = (clock.nanoTime() - start) / Duration.ofSeconds(3).toNanos() % 2 == 1;
      replica("n3", streaming);
      List<StandbyOnItsWay> onTheirWay = tick();
      if (!streaming) {
        assertThat(onTheirWay).isNotEmpty();
        if (StandbyWays.hurries(onTheirWay)) {
          lastHurried = clock.nanoTime() - start;
        }
      } else {
        assertThat(onTheirWay).isEmpty();
        flaps++;
      }
      clock.advance(HALF_SECOND);
    }
    assertThat(flaps).as("ticks that saw it streaming").isGreaterThan(50);
    // Its last spell without streaming that starts within the 30 s is [24 s, 27 s).
    assertThat(lastHurried).as("last hurried, ns after the first break")
        .isBetween(Duration.ofSeconds(24).toNanos(), Duration.ofSeconds(27).toNanos() - 1);

    assertThat(StandbyWays.hurries(notStreamingAfterSteady(Duration.ofMinutes(4)))).isFalse();
    assertThat(ages(tick()).get("n3")).as("the way that began with the first break")
        .isGreaterThanOrEqualTo(Duration.ofMinutes(14));
    List<StandbyOnItsWay> anew = notStreamingAfterSteady(StandbyWays.STEADY_FOR);
    assertThat(StandbyWays.hurries(anew)).isTrue();
    assertThat(ages(anew)).containsExactly(Map.entry("n3", Duration.ZERO));
  }

  /** A member is timed whatever its states: one that moves on to its next state keeps its way. */
  @Test
  void aMemberThatMovesOnToItsNextStateKeepsItsWay() {
    members.put("n3", member("n3").replica(1, "0/5000000").state("creating replica"));
    assertThat(tick()).containsExactly(new StandbyOnItsWay("n3", List.of("creating replica"), Duration.ZERO));
    clock.advance(Duration.ofSeconds(40));
    notStreaming("n3");
    assertThat(tick()).containsExactly(
        new StandbyOnItsWay("n3", List.of("not streaming from me"), Duration.ofSeconds(40)));
  }

  /**
   * Ways are timed per tenure as holder: after a switchover there and back within minutes, the holder
   * hurries again for the standby it had timed in its previous tenure.
   */
  @Test
  void aHolderThatGetsTheKeyBackTimesItsStandbysAnew() {
    notStreaming("n3");
    tick();
    clock.advance(Duration.ofSeconds(40));
    assertThat(StandbyWays.hurries(tick())).as("past its 30 s").isFalse();

    clock.advance(TICK); // a switchover to n3 ...
    assertThat(tick(view().leaderKey("n3"))).isEmpty();
    clock.advance(Duration.ofSeconds(60)); // ... and back a minute later, n3 not yet streaming from n1
    List<StandbyOnItsWay> back = tick();
    assertThat(ages(back)).containsExactly(Map.entry("n3", Duration.ZERO));
    assertThat(StandbyWays.hurries(back)).isTrue();
  }

  /** Nothing to judge by while etcd cannot be read: a blip neither starts nor ends a way. */
  @Test
  void anEtcdBlipNeitherStartsNorEndsAWay() {
    notStreaming("n3");
    assertThat(tick(view().etcdUnreachable("etcd did not answer"))).isEmpty();
    clock.advance(TICK);
    assertThat(ages(tick())).as("begins when first seen").containsExactly(Map.entry("n3", Duration.ZERO));
    clock.advance(Duration.ofSeconds(10));
    assertThat(tick(view().etcdUnreachable("etcd did not answer"))).isEmpty();
    clock.advance(Duration.ofSeconds(10));
    assertThat(ages(tick())).as("the same way").containsExactly(Map.entry("n3", Duration.ofSeconds(20)));
  }

  /** Ages and absences are compared by subtraction, so they hold across a wrap of the monotonic clock. */
  @Test
  void waysAreTimedAcrossAWrapOfTheMonotonicClock() {
    clock = new FakeClock(Long.MAX_VALUE - Duration.ofSeconds(5).toNanos());
    notStreaming("n3");
    tick();
    clock.advance(Duration.ofSeconds(10));
    assertThat(clock.nanoTime()).as("wrapped").isNegative();
    assertThat(ages(tick())).containsExactly(Map.entry("n3", Duration.ofSeconds(10)));

    List<StandbyOnItsWay> continued = notStreamingAfterSteady(StandbyWays.STEADY_FOR.minus(TICK));
    assertThat(StandbyWays.hurries(continued)).isFalse();
    List<StandbyOnItsWay> anew = notStreamingAfterSteady(StandbyWays.STEADY_FOR);
    assertThat(ages(anew)).containsExactly(Map.entry("n3", Duration.ZERO));
  }

  /** n3 streams for {@code steady} (a tick every 2 s), then stops: the standbys on their way then. */
  private List<StandbyOnItsWay> notStreamingAfterSteady(Duration steady) {
    replica("n3", true);
    long until = clock.nanoTime() + steady.toNanos();
    while (until - clock.nanoTime() > 0) {
      assertThat(tick()).isEmpty();
      clock.advance(TICK);
    }
    notStreaming("n3");
    return tick();
  }

  /** n1 holds the key as the recorded primary in synchronous mode, no synchronous standby recorded. */
  private Observations view() {
    Observations o = node("n1").primaryRunning(1, "0/5000000").holdingKey().topology(1, "n1", 1)
        .synchronousMode(SynchronousMode.ON);
    members.values().forEach(o::member);
    return o;
  }

  private List<StandbyOnItsWay> tick() {
    return tick(view());
  }

  private List<StandbyOnItsWay> tick(Observations view) {
    Observation obs = view.build();
    return ways.track(obs.cluster(), obs.local(), obs.me(), clock.nanoTime());
  }

  private void notStreaming(String name) {
    replica(name, false);
  }

  /** A running replica of n1, streaming from it or not. */
  private void replica(String name, boolean streaming) {
    Observations.MemberBuilder m = member(name).replica(1, "0/5000000").upstream(connUrl("n1"));
    members.put(name, streaming ? m : m.notStreaming());
  }

  /** How long each standby has been on its way, by name. */
  private static Map<String, Duration> ages(List<StandbyOnItsWay> onTheirWay) {
    Map<String, Duration> out = new TreeMap<>();
    onTheirWay.forEach(s -> out.put(s.member(), s.onItsWayFor()));
    return out;
  }
}
