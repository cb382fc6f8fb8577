package io.pgwarden.common.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.pgwarden.common.json.Json;
import io.pgwarden.common.model.DynamicConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads and validates config; every failure names the file and the field. */
public final class ConfigLoader {
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
      throw new ConfigException(Json.describe(e), e);
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
      throw new ConfigException(Json.describe(e), e);
    }
  }
}
