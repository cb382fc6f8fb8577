package io.pgwarden.harness.invariant;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.harness.invariant.WritabilityProber.Interval;
import org.junit.jupiter.api.Test;

class WritabilityIntervalTest {
  @Test
  void intervalsThatShareAnInstantOverlap() {
    assertThat(new Interval("a", 0, 10, 1).overlaps(new Interval("b", 10, 20, 1))).isTrue();
    assertThat(new Interval("a", 5, 6, 1).overlaps(new Interval("b", 0, 20, 1))).isTrue();
  }

  @Test
  void disjointIntervalsDoNotOverlapInEitherOrder() {
    assertThat(new Interval("a", 0, 9, 1).overlaps(new Interval("b", 10, 20, 1))).isFalse();
    assertThat(new Interval("b", 10, 20, 1).overlaps(new Interval("a", 0, 9, 1))).isFalse();
  }

  @Test
  void comparisonIsOverflowSafeAcrossTheNanoTimeWrap() {
    long nearMax = Long.MAX_VALUE - 5;
    Interval a = new Interval("a", nearMax, nearMax + 3, 1);          // before the wrap
    Interval b = new Interval("b", nearMax + 10, nearMax + 20, 1);    // after it: negative longs
    assertThat(a.overlaps(b)).isFalse();
    assertThat(a.overlaps(new Interval("b", nearMax + 2, nearMax + 20, 1))).isTrue();
  }
}
