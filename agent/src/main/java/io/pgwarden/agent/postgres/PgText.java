package io.pgwarden.agent.postgres;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Quoting rules of the text formats pgwarden writes for PostgreSQL: each format escapes differently,
 * and a user or host name with a quote or colon must not break (or inject into) any of them.
 */
final class PgText {
  private PgText() {}

  /** A libpq connection-string value: single-quoted, with backslash and quote backslash-escaped. */
  static String conninfoValue(String v) {
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }

  /** {@code key='value' ...} in the given order. */
  static String conninfo(Map<String, String> kv) {
    return kv.entrySet().stream().map(e -> e.getKey() + "=" + conninfoValue(e.getValue()))
        .collect(Collectors.joining(" "));
  }

  /** Parses a libpq keyword/value connection string (quoted or bare values); later keys win. */
  static Map<String, String> parseConninfo(String s) {
    Map<String, String> out = new LinkedHashMap<>();
    int i = 0;
    int n = s.length();
    while (i < n) {
      while (i < n && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
      int keyStart = i;
      while (i < n && s.charAt(i) != '=' && !Character.isWhitespace(s.charAt(i))) {
        i++;
      }
      String key = s.substring(keyStart, i);
      while (i < n && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
      if (key.isEmpty() || i >= n || s.charAt(i) != '=') {
        break;
      }
      i++;
      while (i < n && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
      StringBuilder v = new StringBuilder();
      if (i < n && s.charAt(i) == '\'') {
        i++;
        while (i < n && s.charAt(i) != '\'') {
          if (s.charAt(i) == '\\' && i + 1 < n) {
            i++;
          }
          v.append(s.charAt(i++));
        }
        i++;
      } else {
        while (i < n && !Character.isWhitespace(s.charAt(i))) {
          if (s.charAt(i) == '\\' && i + 1 < n) {
            i++;
          }
          v.append(s.charAt(i++));
        }
      }
      out.put(key, v.toString());
    }
    return out;
  }

  /**
   * A string value in postgresql.conf: single-quoted; the config lexer treats backslash as an
   * escape, so it is doubled, and a quote is doubled.
   */
  static String gucString(String v) {
    StringBuilder b = new StringBuilder("'");
    for (char c : v.toCharArray()) {
      switch (c) {
        case '\\' -> b.append("\\\\");
        case '\'' -> b.append("''");
        // A raw line break would end the value and let the rest of it become a setting of its own.
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x7f) {
            b.append(String.format("\\%03o", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('\'').toString();
  }

  /** {@code name = 'value'} as {@link #gucString} writes it, with the config lexer's quoted-string syntax. */
  private static final Pattern CONF_LINE =
      Pattern.compile("^\\s*([a-z_]+)\\s*=\\s*'((?:[^'\\\\]|''|\\\\.)*)'\\s*$");

  /**
   * The value the first line setting {@code name} in {@code fileText} (a config file written with
   * {@link #gucString}) gives it, unquoted; empty when no line does.
   */
  static Optional<String> confValue(String fileText, String name) {
    return fileText.lines().map(CONF_LINE::matcher).filter(m -> m.matches() && m.group(1).equals(name))
        .findFirst().map(m -> unescapeGucString(m.group(2)));
  }

  /** The inverse of {@link #gucString}, by the rules of PostgreSQL's GUC_scanstr. */
  private static String unescapeGucString(String quoted) {
    StringBuilder b = new StringBuilder(quoted.length());
    int n = quoted.length();
    for (int i = 0; i < n; i++) {
      char c = quoted.charAt(i);
      if (c == '\'') {
        // The pattern admits a quote only doubled.
        b.append('\'');
        i++;
      } else if (c != '\\') {
        b.append(c);
      } else {
        char e = quoted.charAt(++i);
        switch (e) {
          case 'b' -> b.append('\b');
          case 'f' -> b.append('\f');
          case 'n' -> b.append('\n');
          case 'r' -> b.append('\r');
          case 't' -> b.append('\t');
          default -> {
            if (e >= '0' && e <= '7') {
              int end = i + 1;
              while (end < n && end < i + 3 && quoted.charAt(end) >= '0' && quoted.charAt(end) <= '7') {
                end++;
              }
              b.append((char) Integer.parseInt(quoted.substring(i, end), 8));
              i = end - 1;
            } else {
              b.append(e);
            }
          }
        }
      }
    }
    return b.toString();
  }

  /** One field of a .pgpass line: backslash and colon are escaped with a backslash. */
  static String pgpassField(String v) {
    return v.replace("\\", "\\\\").replace(":", "\\:");
  }

  /** A .pgpass line matching any host, port and database for {@code user}. */
  static String pgpassLine(String user, String password) {
    return "*:*:*:" + pgpassField(user) + ":" + pgpassField(password);
  }

  /** A quoted SQL identifier. */
  static String sqlIdentifier(String v) {
    return "\"" + v.replace("\"", "\"\"") + "\"";
  }

  /** A user name in pg_hba.conf: double-quoted, since names like "all" or with spaces are special. */
  static String hbaUser(String v) {
    if (v.contains("\"")) {
      throw new IllegalArgumentException("pg_hba.conf cannot name a user containing a double quote: " + v);
    }
    return "\"" + v + "\"";
  }
}
