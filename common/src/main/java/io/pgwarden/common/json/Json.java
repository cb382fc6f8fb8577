package io.pgwarden.common.json;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.DatabindException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.MapperBuilder;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * The project's mappers. Field names are snake_case on the wire (like Patroni's), records in Java.
 */
public final class Json {
  private Json() {}

  /** Strict: an unknown field is an error. For config written by operators. */
  public static final ObjectMapper STRICT = configure(JsonMapper.builder(), true);

  /**
   * Lenient: unknown fields are ignored, so an agent of an older version can still read a member
   * status published by a newer one.
   */
  public static final ObjectMapper LENIENT = configure(JsonMapper.builder(), false);

  public static final ObjectMapper YAML = configure(YAMLMapper.builder(), true);

  private static ObjectMapper configure(MapperBuilder<?, ?> b, boolean strict) {
    return b.propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, strict)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        // `name: r1` then `name: r2` took r2 and `ttl: 30.9` became 30, silently, in files and in
        // etcd alike: both are mistakes to report, and nothing we write needs either.
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        // Off by default since Jackson 2.16; stated here because the text read is config with
        // passwords, and an exception's location would otherwise quote it wherever it is logged.
        .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
        .build();
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
   * Turns a Jackson failure into one line that names the offending field, the cause and where it is,
   * e.g. {@code postgresql.authentication.superuser: expected a mapping (line 15, column 16)} or
   * {@code ttl: loop_wait + 2*retry_timeout must be <= ttl, got 10 + 2*11 > 30}.
   *
   * <p>Jackson's own messages quote the input ("from String value ('...')", "Unrecognized token
   * '...'") and the YAML parser's quote the source line, so a password on a bad line would end up in
   * logs and terminals. None of that text is used here: the line is built from the exception's type,
   * path and location only. The messages of our own validation ({@link IllegalArgumentException}
   * from a record's constructor or creator) are kept: they are written to name no secret.
   */
  public static String describe(JsonProcessingException e) {
    // A number too large is found with its key just read, as a duplicate key is.
    String path = path(e, syntaxError(e) instanceof InputCoercionException);
    String cause = cause(e);
    MarkedYAMLException yaml = yamlSyntaxError(e);
    if (yaml != null && yaml.getProblemMark() != null) {
      // Jackson places a YAML error after the last good token, often the line before the bad one.
      Mark problem = yaml.getProblemMark();
      Mark context = yaml.getContextMark();
      String at = "line " + (problem.getLine() + 1) + ", column " + (problem.getColumn() + 1);
      if (context != null && context.getLine() != problem.getLine()) {
        // An unclosed quote is noticed at the end of the file; the quote is where the context began.
        at += ", in what begins at line " + (context.getLine() + 1) + ", column " + (context.getColumn() + 1);
      }
      return (path.isEmpty() ? cause : path + ": " + cause) + " (" + at + ")";
    }
    return where(path, cause, e.getLocation());
  }

  /**
   * As {@link #describe(JsonProcessingException)}, and tells a key given twice from other syntax
   * errors, which Jackson reports alike: {@code again}, a new parser over the same text, reads it
   * without the check. Where {@code e} was a duplicate, it gets past that place.
   */
  public static String describe(JsonProcessingException e, JsonParser again) {
    if (syntaxError(e) != null && !(syntaxError(e) instanceof InputCoercionException)
        && passesWithoutDuplicateCheck(again, e.getLocation())) {
      // The parser had just read the key when it found it was there before.
      return where(path(e, true), "duplicate key", e.getLocation());
    }
    return describe(e);
  }

  /** As {@link #describe(JsonProcessingException, JsonParser)}, reading {@code text} again. */
  public static String describe(JsonProcessingException e, ObjectMapper mapper, String text) {
    try (JsonParser again = mapper.createParser(text)) {
      return describe(e, again);
    } catch (IOException cannotClose) {
      return describe(e);
    }
  }

  private static boolean passesWithoutDuplicateCheck(JsonParser again, JsonLocation at) {
    again.disable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    try {
      while (again.nextToken() != null) {
        again.skipChildren();
      }
      return true;
    } catch (IOException other) {
      JsonLocation there = other instanceof JsonProcessingException j ? j.getLocation() : null;
      return at != null && there != null
          && (there.getLineNr() != at.getLineNr() || there.getColumnNr() != at.getColumnNr());
    }
  }

  private static MarkedYAMLException yamlSyntaxError(Throwable e) {
    for (Throwable t = e; t != null && t != t.getCause(); t = t.getCause()) {
      if (t instanceof MarkedYAMLException m) {
        return m;
      }
    }
    return null;
  }

  private static String cause(JsonProcessingException e) {
    IllegalArgumentException ours = thrownByACreator(e);
    if (ours != null) {
      return ours.getMessage();
    }
    if (e instanceof UnrecognizedPropertyException upe) {
      return unknownFieldCause(upe.getPropertyName());
    }
    if (syntaxError(e) instanceof InputCoercionException ice) {
      Class<?> t = ice.getTargetType();
      return "number out of range" + (t == int.class || t == Integer.class ? " (at most 2147483647)"
          : t == long.class || t == Long.class ? " (at most 9223372036854775807)" : "");
    }
    if (syntaxError(e) != null) {
      return "not valid " + (e.getProcessor() instanceof YAMLParser ? "YAML" : "JSON");
    }
    if (e instanceof MismatchedInputException mie && mie.getTargetType() != null) {
      return "expected " + kind(mie.getTargetType());
    }
    return "invalid value";
  }

  /**
   * The validation error a constructor or {@code @JsonCreator} threw, which Jackson wraps: the
   * outermost one, since ours may in turn wrap a JDK exception whose message quotes the input.
   */
  private static IllegalArgumentException thrownByACreator(Throwable e) {
    for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
      if (t instanceof IllegalArgumentException iae && !(t instanceof NumberFormatException)) {
        return iae;
      }
    }
    return null;
  }

  /** The parser's complaint about the text itself, whether thrown directly or wrapped by databind. */
  private static StreamReadException syntaxError(Throwable e) {
    for (Throwable t = e; t != null && t != t.getCause(); t = t.getCause()) {
      if (t instanceof StreamReadException sre && !(t instanceof DatabindException)) {
        return sre;
      }
    }
    return null;
  }

  private static String path(JsonProcessingException e) {
    return path(e, false);
  }

  /**
   * A path in the dotted form operators write, e.g. {@code postgresql.authentication.superuser}.
   * For a syntax error it is the mapping the parser was in, plus the key it had read last if {@code
   * withKey}: that key is where the error is only when the error is about the key itself.
   */
  private static String path(JsonProcessingException e, boolean withKey) {
    List<String> parts = new ArrayList<>();
    if (syntaxError(e) != null && e.getProcessor() instanceof JsonParser p) {
      JsonStreamContext c = p.getParsingContext();
      if (!withKey && c != null && c.inObject()) {
        c = c.getParent();
      }
      for (; c != null && !c.inRoot(); c = c.getParent()) {
        parts.add(0, c.inArray() ? "[" + c.getCurrentIndex() + "]" : c.getCurrentName());
      }
    } else if (e instanceof JsonMappingException jme) {
      for (JsonMappingException.Reference r : jme.getPath()) {
        parts.add(r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]");
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String part : parts) {
      if (part == null) {
        break;
      }
      if (!part.startsWith("[") && !PLAIN_NAME.matcher(part).matches()) {
        // A key like "password:s3cret" is a value with a missing space after the colon.
        break;
      }
      sb.append(sb.length() == 0 || part.startsWith("[") ? "" : ".").append(part);
    }
    return sb.toString();
  }

  private static final Pattern PLAIN_NAME = Pattern.compile("[A-Za-z0-9_.-]+");

  /** {@code parent.name: unknown field 'name' (line L, column C)}, for a field found by walking the text. */
  public static String unknownField(String parent, String name, JsonLocation at) {
    boolean plain = name != null && PLAIN_NAME.matcher(name).matches();
    String path = !plain ? parent : parent.isEmpty() ? name : parent + "." + name;
    return where(path, unknownFieldCause(name), at);
  }

  /**
   * Names the unknown field unless it does not look like a name: in {@code {password:s3cret}} (no
   * space after the colon) YAML reads the password as a key.
   */
  private static String unknownFieldCause(String name) {
    return name != null && PLAIN_NAME.matcher(name).matches()
        ? "unknown field '" + name + "'"
        : "unknown field, name not shown as it may hold a value: is a space missing after ':'?";
  }

  /** {@code path: cause (line L, column C)}, leaving out what is not known. */
  private static String where(String path, String cause, JsonLocation at) {
    String line = path.isEmpty() ? cause : path + ": " + cause;
    if (at == null || at.getLineNr() < 1) {
      return line;
    }
    return line + " (line " + at.getLineNr() + (at.getColumnNr() > 0 ? ", column " + at.getColumnNr() : "") + ")";
  }

  /** What a value of {@code t} looks like, in the operator's words. */
  private static String kind(Class<?> t) {
    if (t == String.class || hasTextCreator(t)) {
      return "text";
    }
    if (t == Boolean.class || t == boolean.class) {
      return "true or false";
    }
    if (t == Integer.class || t == int.class || t == Long.class || t == long.class) {
      return "a whole number";
    }
    if (Number.class.isAssignableFrom(t) || t.isPrimitive()) {
      return "a number";
    }
    if (t.isEnum()) {
      return "one of " + Arrays.stream(t.getEnumConstants()).map(c -> c.toString().toLowerCase(Locale.ROOT))
          .collect(Collectors.joining(", "));
    }
    if (t.isArray() || Collection.class.isAssignableFrom(t)) {
      return "a list";
    }
    return "a mapping";
  }

  /** A type written as one string, such as {@code HostPort} ("host:port"). */
  private static boolean hasTextCreator(Class<?> t) {
    for (Method m : t.getDeclaredMethods()) {
      if (Modifier.isStatic(m.getModifiers()) && m.isAnnotationPresent(JsonCreator.class)
          && m.getParameterCount() == 1 && m.getParameterTypes()[0] == String.class) {
        return true;
      }
    }
    return false;
  }
}
