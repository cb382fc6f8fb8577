package io.pgwarden.agent.ops;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.agent.port.RawKv;
import io.pgwarden.common.config.ConfigException;
import io.pgwarden.common.config.ConfigLoader;
import io.pgwarden.common.config.Keys;
import io.pgwarden.common.json.Json;
import io.pgwarden.common.model.DynamicConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Changes to {@code /config}: parsing {@code KEY=VALUE}, validating through the same parser the
 * agents use, rendering a diff, and writing with compare-and-swap so a concurrent edit is never lost.
 */
public final class ConfigEdits {
  private ConfigEdits() {}

  public static final List<String> FIELDS = List.of("ttl", "loop_wait", "retry_timeout", "maximum_lag_on_failover",
      "synchronous_mode", "synchronous_node_count", "pause");
  private static final Set<String> WHOLE_NUMBERS = Set.of("ttl", "loop_wait", "retry_timeout", "synchronous_node_count");

  /** What {@code /config} holds now; {@code modRevision} 0 when the key is absent. */
  public record Current(DynamicConfig config, long modRevision) {}

  /**
   * Applies {@code KEY=VALUE} settings to {@code base}. A value of {@code null} (or empty) resets the
   * field to its default, as in patronictl. Throws {@link IllegalArgumentException} naming the field.
   */
  public static DynamicConfig apply(DynamicConfig base, List<String> settings) {
    if (settings.isEmpty()) {
      throw new IllegalArgumentException("give at least one KEY=VALUE (keys: " + String.join(", ", FIELDS)
          + ", parameters.NAME)");
    }
    ObjectNode tree = Json.LENIENT.valueToTree(base);
    for (String s : settings) {
      int eq = s.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("'" + s + "' is not KEY=VALUE");
      }
      set(tree, s.substring(0, eq).trim(), s.substring(eq + 1).trim());
    }
    return parse(tree);
  }

  /**
   * {@code base} with a JSON merge patch applied (RFC 7386, as Patroni's {@code PATCH /config}): a field
   * set to null goes back to its default, an object is merged into the one it names. Patroni's place for
   * PostgreSQL parameters, {@code {"postgresql": {"parameters": {...}}}}, is taken for pgwarden's
   * {@code parameters}. Throws {@link IllegalArgumentException} naming the field.
   */
  public static DynamicConfig patched(DynamicConfig base, JsonNode patch) {
    ObjectNode tree = Json.LENIENT.valueToTree(base);
    merge(tree, patroniShape(patch));
    return parse(tree);
  }

  /** {@code whole} as the entire new config, checked like any other (Patroni's {@code PUT /config}). */
  public static DynamicConfig replaced(JsonNode whole) {
    return parse(patroniShape(whole));
  }

  private static ObjectNode patroniShape(JsonNode body) {
    if (body == null || !body.isObject()) {
      throw new IllegalArgumentException("the config must be a JSON object");
    }
    ObjectNode out = ((ObjectNode) body).deepCopy();
    JsonNode pg = out.remove("postgresql");
    if (pg == null || pg.isNull()) {
      return out;
    }
    if (!pg.isObject()) {
      throw new IllegalArgumentException("postgresql must be an object ({\"parameters\": {...}})");
    }
    for (java.util.Iterator<String> names = pg.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!name.equals("parameters")) {
        throw new IllegalArgumentException("postgresql." + name + " is not a dynamic setting of pgwarden (only "
            + "postgresql.parameters is)");
      }
    }
    if (out.has("parameters")) {
      throw new IllegalArgumentException("parameters given twice: as parameters and as postgresql.parameters");
    }
    out.set("parameters", pg.get("parameters"));
    return out;
  }

  private static void merge(ObjectNode target, JsonNode patch) {
    for (java.util.Iterator<java.util.Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
      java.util.Map.Entry<String, JsonNode> e = it.next();
      JsonNode value = e.getValue();
      JsonNode current = target.get(e.getKey());
      if (value.isNull()) {
        target.remove(e.getKey());
      } else if (value.isObject() && current != null && current.isObject()) {
        merge((ObjectNode) current, value);
      } else {
        target.set(e.getKey(), value.deepCopy());
      }
    }
  }

  /** The settings that differ between two configs, {@code parameters.NAME} for a parameter; for a log line. */
  public static List<String> changed(DynamicConfig before, DynamicConfig after) {
    List<String> out = new ArrayList<>();
    JsonNode a = Json.LENIENT.valueToTree(before);
    JsonNode b = Json.LENIENT.valueToTree(after);
    java.util.SortedSet<String> names = new java.util.TreeSet<>();
    a.fieldNames().forEachRemaining(names::add);
    b.fieldNames().forEachRemaining(names::add);
    for (String n : names) {
      if (n.equals("parameters")) {
        java.util.SortedSet<String> ps = new java.util.TreeSet<>(before.parameters().keySet());
        ps.addAll(after.parameters().keySet());
        for (String p : ps) {
          if (!java.util.Objects.equals(before.parameters().get(p), after.parameters().get(p))) {
            out.add("parameters." + p);
          }
        }
      } else if (!java.util.Objects.equals(a.get(n), b.get(n))) {
        out.add(n);
      }
    }
    return out;
  }

  /**
   * Checks keys and value types only, without a base config: cross-field rules (loop_wait + 2 *
   * retry_timeout <= ttl) can only be judged against the config in etcd.
   */
  public static void checkSyntax(List<String> settings) {
    ObjectNode scratch = JsonNodeFactory.instance.objectNode();
    for (String s : settings) {
      int eq = s.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("'" + s + "' is not KEY=VALUE");
      }
      set(scratch, s.substring(0, eq).trim(), s.substring(eq + 1).trim());
    }
  }

  private static void set(ObjectNode tree, String key, String value) {
    boolean reset = value.isEmpty() || value.equalsIgnoreCase("null");
    if (key.startsWith("parameters.")) {
      String name = key.substring("parameters.".length());
      if (name.isEmpty()) {
        throw new IllegalArgumentException("parameters: the parameter name is missing in '" + key + "'");
      }
      ObjectNode params = tree.get("parameters") instanceof ObjectNode o ? o : tree.putObject("parameters");
      if (reset) {
        params.remove(name);
      } else {
        params.put(name, value);
      }
      return;
    }
    if (!FIELDS.contains(key)) {
      throw new IllegalArgumentException(key + ": unknown field (known: " + String.join(", ", FIELDS)
          + ", parameters.NAME)");
    }
    if (reset) {
      tree.remove(key);
      return;
    }
    tree.set(key, typed(key, value));
  }

  private static JsonNode typed(String key, String value) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    if (WHOLE_NUMBERS.contains(key)) {
      try {
        return f.numberNode(Integer.parseInt(value));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(key + ": must be a whole number, got '" + value + "'");
      }
    }
    if (key.equals("maximum_lag_on_failover")) {
      try {
        return f.numberNode(Sizes.parseBytes(value));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(key + ": must be bytes or a size like 16MB, got '" + value + "'");
      }
    }
    if (key.equals("pause")) {
      String v = value.toLowerCase(Locale.ROOT);
      if (!v.equals("true") && !v.equals("false")) {
        throw new IllegalArgumentException(key + ": must be true or false, got '" + value + "'");
      }
      return f.booleanNode(Boolean.parseBoolean(v));
    }
    return f.textNode(value);
  }

  /** Validates a whole edited config (YAML or JSON text) with the agents' parser. */
  public static DynamicConfig parseEdited(String yaml) {
    JsonNode tree;
    try {
      tree = Json.YAML.readTree(yaml);
    } catch (JsonProcessingException e) {
      // Not Jackson's message: it quotes the offending line.
      throw new IllegalArgumentException(Json.describe(e, Json.YAML, yaml));
    }
    if (tree == null || tree.isMissingNode() || tree.isNull()) {
      return DynamicConfig.DEFAULTS;
    }
    return parse(tree);
  }

  private static DynamicConfig parse(JsonNode tree) {
    try {
      return ConfigLoader.parseDynamic(tree);
    } catch (ConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  public static String yaml(DynamicConfig c) {
    try {
      return Json.YAML.writeValueAsString(c);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render the dynamic config as YAML", e);
    }
  }

  public static Current read(ClusterStore store, Keys keys, Duration timeout) {
    RawKv kv = store.get(keys.config(), timeout);
    if (kv == null) {
      return new Current(DynamicConfig.DEFAULTS, 0);
    }
    try {
      return new Current(ConfigLoader.parseDynamic(kv.value()), kv.modRevision());
    } catch (ConfigException e) {
      throw new IllegalArgumentException(keys.config() + " holds an invalid config (" + e.getMessage()
          + "); fix it with `pgwarden edit-config`", e);
    }
  }

  /** Writes {@code c} only if {@code /config} is still at {@code modRevision}. */
  public static boolean write(ClusterStore store, Keys keys, DynamicConfig c, long modRevision, Duration timeout) {
    return store.putIfModRevision(keys.config(), Json.write(c), modRevision, timeout);
  }

  /**
   * Read, change, compare-and-swap; re-reads and re-applies on a conflict, so a concurrent edit of
   * another field is kept. Returns the config written.
   */
  public static DynamicConfig update(ClusterStore store, Keys keys, UnaryOperator<DynamicConfig> change,
      Duration timeout) {
    for (int attempt = 1; attempt <= 10; attempt++) {
      Current cur = read(store, keys, timeout);
      DynamicConfig next = change.apply(cur.config());
      if (write(store, keys, next, cur.modRevision(), timeout)) {
        return next;
      }
    }
    throw new IllegalStateException(keys.config() + " kept changing under us; nothing applied, try again");
  }

  /**
   * Writes {@code next} over whatever {@code /config} holds, valid or not (compare-and-swap on its revision,
   * so that a write in between is not overwritten unseen): how a config an operator broke by hand is mended.
   * Returns the config it replaced, or null when there was none or it was invalid.
   */
  public static DynamicConfig replace(ClusterStore store, Keys keys, DynamicConfig next, Duration timeout) {
    for (int attempt = 1; attempt <= 10; attempt++) {
      RawKv kv = store.get(keys.config(), timeout);
      if (write(store, keys, next, kv == null ? 0 : kv.modRevision(), timeout)) {
        if (kv == null) {
          return null;
        }
        try {
          return ConfigLoader.parseDynamic(kv.value());
        } catch (ConfigException invalid) {
          return null;
        }
      }
    }
    throw new IllegalStateException(keys.config() + " kept changing under us; nothing applied, try again");
  }

  public static DynamicConfig withPause(DynamicConfig c, boolean pause) {
    return new DynamicConfig(c.ttl(), c.loopWait(), c.retryTimeout(), c.maximumLagOnFailover(), c.synchronousMode(),
        c.synchronousNodeCount(), pause, c.parameters());
  }

  /**
   * A line diff in the shape of {@code diff -u} without hunk headers: "-" old, "+" new, " " same.
   * Empty when nothing changed. Longest common subsequence: configs are a few dozen lines.
   */
  public static String diff(String before, String after) {
    String[] a = before.split("\n", -1);
    String[] b = after.split("\n", -1);
    a = trimLastEmpty(a);
    b = trimLastEmpty(b);
    int[][] lcs = new int[a.length + 1][b.length + 1];
    for (int i = a.length - 1; i >= 0; i--) {
      for (int j = b.length - 1; j >= 0; j--) {
        lcs[i][j] = a[i].equals(b[j]) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    List<String> out = new ArrayList<>();
    boolean changed = false;
    int i = 0;
    int j = 0;
    while (i < a.length || j < b.length) {
      if (i < a.length && j < b.length && a[i].equals(b[j])) {
        out.add(" " + a[i++]);
        j++;
      } else if (i < a.length && (j == b.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
        out.add("-" + a[i++]);
        changed = true;
      } else {
        out.add("+" + b[j++]);
        changed = true;
      }
    }
    return changed ? String.join("\n", out) + "\n" : "";
  }

  private static String[] trimLastEmpty(String[] lines) {
    if (lines.length > 0 && lines[lines.length - 1].isEmpty()) {
      return java.util.Arrays.copyOf(lines, lines.length - 1);
    }
    return lines;
  }
}
