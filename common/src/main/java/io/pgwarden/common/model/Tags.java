package io.pgwarden.common.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/** Per-node tags, as in Patroni. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Tags(Boolean nofailover, Boolean noloadbalance, Integer failoverPriority, Boolean nosync) {
  public static final Tags NONE = new Tags(false, false, 1, false);

  public Tags {
    nofailover = nofailover != null && nofailover;
    noloadbalance = noloadbalance != null && noloadbalance;
    failoverPriority = failoverPriority == null ? 1 : failoverPriority;
    nosync = nosync != null && nosync;
    if (failoverPriority < 0) {
      throw new IllegalArgumentException("tags.failover_priority must be >= 0, got " + failoverPriority);
    }
  }

  // By hand, as MemberStatus's: a record's generated equals goes through method handles, which the interpreter
  // and C1 run slowly, and every tick compares the status it would publish, tags included, with the last.
  @Override
  public boolean equals(Object o) {
    return o instanceof Tags t && nofailover.equals(t.nofailover) && noloadbalance.equals(t.noloadbalance)
        && failoverPriority.equals(t.failoverPriority) && nosync.equals(t.nosync);
  }

  @Override
  public int hashCode() {
    return ((nofailover.hashCode() * 31 + noloadbalance.hashCode()) * 31 + failoverPriority.hashCode()) * 31
        + nosync.hashCode();
  }

  public boolean canFailover() {
    return !nofailover && failoverPriority > 0;
  }
}
