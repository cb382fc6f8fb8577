package io.pgwarden.common.decide;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which operator-set PostgreSQL parameters are left out because PostgreSQL rejects them. Pure: the
 * caller runs the checks and renders the files without the rejected ones.
 */
public final class ParameterChecks {
  private ParameterChecks() {}

  private static final Pattern PARAMETER_IN_ERROR = Pattern.compile("(?:LOG|FATAL):\\s+(.*?\"([^\"]+)\".*)");

  /** A parameter PostgreSQL rejected: the value as the operator configured it, and PostgreSQL's words. */
  public record Rejection(String name, String value, String reason) {}

  /**
   * The value the operator configured for {@code name}: the node's config over /config; null: none
   * (one of pgwarden's own settings, or not set).
   */
  public static String configured(String name, Map<String, ?> local, Map<String, String> dynamic) {
    Object l = local.get(name);
    return l != null ? String.valueOf(l) : dynamic.get(name);
  }

  /**
   * The operator's value of a parameter PostgreSQL named as bad, if that is news: null when the
   * operator did not configure it (pgwarden's own settings are not the operator's to fix) or it is
   * already rejected at that value. Used after a reload and before a start alike.
   *
   * @param known name to value of the parameters already rejected
   */
  public static String newlyRejected(String name, Map<String, ?> local, Map<String, String> dynamic,
      Map<String, String> known) {
    String value = configured(name, local, dynamic);
    return value == null || value.equals(known.get(name)) ? null : value;
  }

  /**
   * The new rejections in the output of a failed {@code postgres -C} (it reads the config files as a
   * start would, names each bad setting on a line of its own, then fails on "configuration file ...
   * contains errors"). A named parameter counts only when the operator configured it (pgwarden's own
   * settings are not the operator's to fix) and is not already rejected at the same value; each name
   * counts once. None: nothing an operator can fix, so the failure is left for pg_ctl to report.
   *
   * @param stderr what {@code postgres -C} wrote
   * @param local the node's own parameters
   * @param dynamic the parameters from /config
   * @param known name to value of the parameters already rejected
   * @return the new rejections, in the order PostgreSQL named them
   */
  public static List<Rejection> rejectedByCheck(String stderr, Map<String, ?> local, Map<String, String> dynamic,
      Map<String, String> known) {
    Map<String, String> seen = new HashMap<>(known);
    List<Rejection> out = new ArrayList<>();
    Matcher m = PARAMETER_IN_ERROR.matcher(stderr);
    while (m.find()) {
      String name = m.group(2);
      String value = newlyRejected(name, local, dynamic, seen);
      if (value == null) {
        continue;
      }
      seen.put(name, value);
      out.add(new Rejection(name, value, m.group(1).strip()));
    }
    return out;
  }
}
