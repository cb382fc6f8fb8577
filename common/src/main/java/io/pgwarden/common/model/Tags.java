package io.pgwarden.common.model;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;
import java.util.Set;

/**
 * Per-node tags, as in Patroni: the four that change what pgwarden does, and any others an operator
 * names (say {@code datacenter: dc1}), which change nothing but what a load balancer's {@code
 * ?tag_datacenter=dc1} check answers. All of them sit side by side in the config's and the member
 * key's {@code tags} object.
 *
 * @param custom the operator's own tags, by name, their values as text (YAML's {@code 3} and {@code true}
 *     become "3" and "true", as Patroni compares them)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Tags(Boolean nofailover, Boolean noloadbalance, Integer failoverPriority, Boolean nosync,
    @JsonAnySetter @JsonAnyGetter Map<String, String> custom) {
  public static final Tags NONE = new Tags(false, false, 1, false);

  /**
   * Patroni tags whose behaviour pgwarden does not have. Accepted as plain tags they would look as if they
   * did something: a replica tagged {@code replicatefrom: node2} would still stream from the primary. Set to
   * false they ask for nothing and are kept as plain tags.
   */
  static final Set<String> PATRONI_ONLY = Set.of("clonefrom", "replicatefrom", "nostream");

  public Tags {
    nofailover = nofailover != null && nofailover;
    noloadbalance = noloadbalance != null && noloadbalance;
    failoverPriority = failoverPriority == null ? 1 : failoverPriority;
    nosync = nosync != null && nosync;
    custom = custom == null || custom.isEmpty() ? Map.of() : SortedMaps.of(custom);
    if (failoverPriority < 0) {
      throw new IllegalArgumentException("tags.failover_priority must be >= 0, got " + failoverPriority);
    }
    for (Map.Entry<String, String> t : custom.entrySet()) {
      // "false" asks for nothing, and Patroni's sample configuration lists clonefrom: false.
      if (PATRONI_ONLY.contains(t.getKey()) && !"false".equals(t.getValue())) {
        throw new IllegalArgumentException("tags." + t.getKey() + " is a Patroni tag pgwarden does not implement;"
            + " remove it");
      }
      String near = lookalike(t.getKey());
      if (near != null) {
        // Taken as a tag of the operator's own, a misspelt nofailover would silently leave the node a candidate.
        throw new IllegalArgumentException("tags." + t.getKey() + " is not a pgwarden tag: did you mean " + near
            + "? (a tag of your own must not look like nofailover, noloadbalance, failover_priority or nosync)");
      }
      if (t.getValue() == null) {
        throw new IllegalArgumentException("tags." + t.getKey() + " has no value; give it one or remove it");
      }
    }
  }

  private static final java.util.List<String> OWN = java.util.List.of("nofailover", "noloadbalance",
      "failover_priority", "nosync");

  /** The tag of pgwarden's own that {@code name} is a slip of (two edits or fewer, any case), or null. */
  static String lookalike(String name) {
    String n = name.toLowerCase(java.util.Locale.ROOT);
    for (String own : OWN) {
      if (editDistance(n, own) <= 2) {
        return own;
      }
    }
    return null;
  }

  private static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  public Tags(Boolean nofailover, Boolean noloadbalance, Integer failoverPriority, Boolean nosync) {
    this(nofailover, noloadbalance, failoverPriority, nosync, null);
  }

  /** This node's value of the tag {@code name}, any of them, as text; null when it has no such tag. */
  public String value(String name) {
    return switch (name) {
      case "nofailover" -> nofailover.toString();
      case "noloadbalance" -> noloadbalance.toString();
      case "failover_priority" -> failoverPriority.toString();
      case "nosync" -> nosync.toString();
      default -> custom.get(name);
    };
  }

  // By hand, as MemberStatus's: a record's generated equals goes through method handles, which the interpreter
  // and C1 run slowly, and every tick compares the status it would publish, tags included, with the last.
  @Override
  public boolean equals(Object o) {
    return o instanceof Tags t && nofailover.equals(t.nofailover) && noloadbalance.equals(t.noloadbalance)
        && failoverPriority.equals(t.failoverPriority) && nosync.equals(t.nosync)
        && (custom == t.custom || custom.equals(t.custom));
  }

  @Override
  public int hashCode() {
    return (((nofailover.hashCode() * 31 + noloadbalance.hashCode()) * 31 + failoverPriority.hashCode()) * 31
        + nosync.hashCode()) * 31 + custom.hashCode();
  }

  public boolean canFailover() {
    return !nofailover && failoverPriority > 0;
  }
}
