package io.pgwarden.common.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.pgwarden.common.json.Json;
import io.pgwarden.common.model.DynamicConfig;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads and validates config; every failure names the file and the field. */
public final class ConfigLoader {
  private static final PropertyNamingStrategies.NamingBase SNAKE =
      (PropertyNamingStrategies.NamingBase) PropertyNamingStrategies.SNAKE_CASE;

  private ConfigLoader() {}

  public static AgentConfig load(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException(file + ": no such file");
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
    }
    try {
      return parse(text);
    } catch (ConfigException e) {
      throw new ConfigException(file + ": " + e.getMessage(), e);
    }
  }

  public static AgentConfig parse(String yaml) {
    if (yaml == null || yaml.isBlank()) {
      throw new ConfigException("the file is empty");
    }
    try {
      AgentConfig c = Json.YAML.readValue(yaml, AgentConfig.class);
      if (c == null) {
        throw new ConfigException("the file is empty");
      }
      return c;
    } catch (JsonProcessingException e) {
      // Without e as the cause: its message quotes the input, which may be a password.
      throw new ConfigException(describe(() -> Json.YAML.createParser(yaml), AgentConfig.class, e));
    }
  }

  /** Parses the JSON kept in {@code /config}; throws {@link ConfigException} naming the field. */
  public static DynamicConfig parseDynamic(String json) {
    // Taken for the defaults, `etcdctl put .../config ''` dropped pause and strict mode at once,
    // where deleting the key keeps the last config. {} still means all defaults.
    if (json == null || json.isBlank()) {
      throw new ConfigException("the value is empty (write {} for all defaults)");
    }
    try {
      DynamicConfig c = Json.STRICT.readValue(json, DynamicConfig.class);
      if (c == null) {
        throw new ConfigException("the value is null, not an object (write {} for all defaults)");
      }
      return c;
    } catch (JsonProcessingException e) {
      throw new ConfigException(describe(() -> Json.STRICT.createParser(json), DynamicConfig.class, e));
    }
  }

  /**
   * Checks a dynamic config built in memory, such as the CLI's edits. Errors name the field but no
   * line: there is no text an operator wrote to point into.
   */
  public static DynamicConfig parseDynamic(JsonNode tree) {
    try {
      DynamicConfig c = Json.STRICT.treeToValue(tree, DynamicConfig.class);
      return c == null ? DynamicConfig.DEFAULTS : c;
    } catch (JsonProcessingException e) {
      throw new ConfigException(describe(() -> tree.traverse(Json.STRICT), DynamicConfig.class, e));
    }
  }

  @FunctionalInterface
  private interface Source {
    JsonParser open() throws IOException;
  }

  /**
   * Jackson builds a record before it reports the record's unknown fields, so a typo such as {@code
   * data_dri} would surface as "data_dir is missing". Name the unknown field first.
   */
  private static String describe(Source text, Class<?> type, JsonProcessingException e) {
    try (JsonParser p = text.open()) {
      if (p.nextToken() == JsonToken.START_OBJECT) {
        String unknown = firstUnknownField(p, type, "");
        if (unknown != null) {
          return unknown;
        }
      }
    } catch (IOException notEvenWellFormed) {
      // fall through: describe the original failure
    }
    try (JsonParser again = text.open()) {
      return Json.describe(e, again);
    } catch (IOException cannotClose) {
      return Json.describe(e);
    }
  }

  /** With {@code p} just past a '{' of a {@code type} object: the first field {@code type} lacks. */
  private static String firstUnknownField(JsonParser p, Class<?> type, String path) throws IOException {
    if (!type.isRecord() || takesAnyField(type)) {
      p.skipChildren();
      return null;
    }
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonLocation at = p.currentTokenLocation();
      RecordComponent match = null;
      for (RecordComponent rc : type.getRecordComponents()) {
        if (SNAKE.translate(rc.getName()).equals(name)) {
          match = rc;
        }
      }
      if (match == null) {
        return Json.unknownField(path, name, at);
      }
      String here = path.isEmpty() ? name : path + "." + name;
      if (p.nextToken() == JsonToken.START_OBJECT) {
        String deeper = firstUnknownField(p, match.getType(), here);
        if (deeper != null) {
          return deeper;
        }
      } else {
        p.skipChildren();
      }
    }
    return null;
  }

  /** A record with a component that gathers the fields it does not name (as {@link io.pgwarden.common.model.Tags}). */
  private static boolean takesAnyField(Class<?> type) {
    // The annotation does not target record components; Java hands it on to the component's field.
    for (java.lang.reflect.Field f : type.getDeclaredFields()) {
      if (f.isAnnotationPresent(com.fasterxml.jackson.annotation.JsonAnySetter.class)) {
        return true;
      }
    }
    return false;
  }
}
