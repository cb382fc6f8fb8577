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

  public boolean canFailover() {
    return !nofailover && failoverPriority > 0;
  }
}
