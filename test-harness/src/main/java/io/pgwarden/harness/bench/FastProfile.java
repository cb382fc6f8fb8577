package io.pgwarden.harness.bench;

import java.util.Map;

/**
 * The fast profile the benchmarks measure (README, "Configuration"): ttl 4, loop_wait 1, retry_timeout 1.
 * A power-off's write gap is about ttl minus the time since the leader's last renewal (half a loop on
 * average), plus up to 0.5 s until etcd revokes the expired lease, plus the promotion: at ttl 5 that is
 * ~4.9 s, too close to the 5-s target to meet it on a noisy machine, hence ttl 4. The leader's lease stays
 * locally valid for ttl - retry_timeout = 3 s after a renewal, as at ttl 5 / retry_timeout 2, so it rides
 * out the same stalls. {@code -Dbench.fastProfile=TTL,LOOP_WAIT,RETRY_TIMEOUT} measures another one.
 */
public record FastProfile(int ttl, int loopWait, int retryTimeout) {
  public static final FastProfile DEFAULT = new FastProfile(4, 1, 1);

  /** The profile of this run: {@link #DEFAULT}, or {@code -Dbench.fastProfile}. */
  public static FastProfile current() {
    String p = System.getProperty("bench.fastProfile");
    if (p == null || p.isBlank()) {
      return DEFAULT;
    }
    return parse(p);
  }

  /** {@code TTL,LOOP_WAIT,RETRY_TIMEOUT} in whole seconds, as {@code -Dbench.fastProfile} takes it. */
  static FastProfile parse(String p) {
    String[] parts = p.split(",");
    try {
      if (parts.length == 3) {
        return new FastProfile(Integer.parseInt(parts[0].strip()), Integer.parseInt(parts[1].strip()),
            Integer.parseInt(parts[2].strip()));
      }
    } catch (NumberFormatException e) {
      // reported below, with the whole value
    }
    throw new IllegalArgumentException(
        "-Dbench.fastProfile wants TTL,LOOP_WAIT,RETRY_TIMEOUT in whole seconds (e.g. 5,1,2), got '" + p + "'");
  }

  /** As the cluster's dynamic configuration. */
  public Map<String, Object> config() {
    return Map.of("ttl", ttl, "loop_wait", loopWait, "retry_timeout", retryTimeout);
  }

  /** As {@code pgwarden set-config} arguments. */
  public String[] setConfigArgs() {
    return new String[] {"ttl=" + ttl, "loop_wait=" + loopWait, "retry_timeout=" + retryTimeout};
  }

  /** The settings column of the benchmark tables. */
  public String label() {
    return "fast: ttl " + ttl + ", loop_wait " + loopWait + ", retry_timeout " + retryTimeout + ", sync on";
  }
}
