package io.pgwarden.common.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.pgwarden.common.json.Json;
import io.pgwarden.common.model.DynamicConfig;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;

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
      throw new ConfigException(describe(Json.YAML, yaml, AgentConfig.class, e), e);
    }
  }

  /** Parses the JSON kept in {@code /config}; throws {@link ConfigException} naming the field. */
  public static DynamicConfig parseDynamic(String json) {
    if (json == null || json.isBlank()) {
      return DynamicConfig.DEFAULTS;
    }
    try {
      DynamicConfig c = Json.STRICT.readValue(json, DynamicConfig.class);
      return c == null ? DynamicConfig.DEFAULTS : c;
    } catch (JsonProcessingException e) {
      throw new ConfigException(describe(Json.STRICT, json, DynamicConfig.class, e), e);
    }
  }

  /**
   * Jackson builds a record before it reports the record's unknown fields, so a typo such as {@code
   * data_dri} would surface as "data_dir is missing". Name the unknown field first.
   */
  private static String describe(ObjectMapper mapper, String text, Class<?> type, JsonProcessingException e) {
    try {
      String unknown = firstUnknownField(mapper.readTree(text), type, "");
      if (unknown != null) {
        return unknown + ": unknown field '" + unknown.substring(unknown.lastIndexOf('.') + 1) + "'";
      }
    } catch (JsonProcessingException notEvenATree) {
      // fall through: describe the original failure
    }
    return Json.describe(e);
  }

  private static String firstUnknownField(JsonNode node, Class<?> type, String path) {
    if (node == null || !node.isObject() || !type.isRecord()) {
      return null;
    }
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      RecordComponent match = null;
      for (RecordComponent rc : type.getRecordComponents()) {
        if (SNAKE.translate(rc.getName()).equals(name)) {
          match = rc;
        }
      }
      String here = path.isEmpty() ? name : path + "." + name;
      if (match == null) {
        return here;
      }
      String deeper = firstUnknownField(node.get(name), match.getType(), here);
      if (deeper != null) {
        return deeper;
      }
    }
    return null;
  }
}
