package io.pgwarden.common.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.util.stream.Collectors;

/**
 * The project's mappers. Field names are snake_case on the wire (like Patroni's), records in Java.
 */
public final class Json {
  private Json() {}

  /** Strict: an unknown field is an error. For config written by operators. */
  public static final ObjectMapper STRICT = configure(JsonMapper.builder().build(), true);

  /**
   * Lenient: unknown fields are ignored, so an agent of an older version can still read a member
   * status published by a newer one.
   */
  public static final ObjectMapper LENIENT = configure(JsonMapper.builder().build(), false);

  public static final ObjectMapper YAML = configure(YAMLMapper.builder().build(), true);

  private static ObjectMapper configure(ObjectMapper m, boolean strict) {
    m.setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    m.configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, strict);
    m.configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true);
    return m;
  }

  public static String write(Object value) {
    try {
      return LENIENT.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
    }
  }

  public static String writePretty(Object value) {
    try {
      return LENIENT.writerWithDefaultPrettyPrinter().writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
    }
  }

  /**
   * Turns a Jackson failure into one line that names the offending field, e.g. {@code
   * postgresql.listen: unknown field} or {@code ttl: loop_wait + 2*retry_timeout must be <= ttl}.
   */
  public static String describe(JsonProcessingException e) {
    String path = "";
    if (e instanceof JsonMappingException jme && !jme.getPath().isEmpty()) {
      path =
          jme.getPath().stream()
              .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
              .collect(Collectors.joining("."))
              .replace(".[", "[");
    }
    String what;
    if (e instanceof UnrecognizedPropertyException upe) {
      what = "unknown field '" + upe.getPropertyName() + "'";
    } else {
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      what = root instanceof IllegalArgumentException ? root.getMessage() : e.getOriginalMessage();
    }
    return path.isEmpty() ? what : path + ": " + what;
  }
}
