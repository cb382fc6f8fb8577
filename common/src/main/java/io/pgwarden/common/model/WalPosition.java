package io.pgwarden.common.model;

/**
 * A WAL position together with its timeline. Positions on different timelines are not comparable
 * by LSN alone (safety invariant 7), so ordering goes by timeline first.
 */
public record WalPosition(long timeline, Lsn lsn) implements Comparable<WalPosition> {
  public WalPosition {
    if (timeline < 1) {
      throw new IllegalArgumentException("timeline must be >= 1: " + timeline);
    }
    if (lsn == null) {
      throw new IllegalArgumentException("lsn is missing");
    }
  }

  @Override
  public int compareTo(WalPosition o) {
    int byTimeline = Long.compare(timeline, o.timeline);
    return byTimeline != 0 ? byTimeline : lsn.compareTo(o.lsn);
  }

  @Override
  public String toString() {
    return "TL" + timeline + "@" + lsn;
  }
}
