package io.pgwarden.agent;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;

/**
 * The agent's log line: {@code 2026-11-28T03:18:44.008Z INFO  [node1 12] ReconcileLoop: message}, what
 * {@link #PATTERN} gives through logback's PatternLayout. Written out by hand because PatternLayout
 * builds its whole converter registry (~150 classes, 70 of them lambdas spun at run time) and the JDK's
 * locale data for the date, all of which stay loaded for the life of the agent (docs/benchmarks.md,
 * "Idle RSS"). LogLineTest holds the two to the same output.
 */
final class LogLine extends LayoutBase<ILoggingEvent> {
  /** The same line as a logback pattern, for an operator's own logback.xml. */
  static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%X{node:-} %X{tick:-}] %logger{0}: %msg%n";

  private final ZoneId zone;

  LogLine() {
    this(ZoneId.systemDefault());
  }

  LogLine(ZoneId zone) {
    this.zone = zone;
  }

  @Override
  public String doLayout(ILoggingEvent event) {
    StringBuilder b = new StringBuilder(128);
    timestamp(b, event.getTimeStamp());
    b.append(' ');
    String level = event.getLevel().toString();
    b.append(level);
    for (int i = level.length(); i < 5; i++) {
      b.append(' ');
    }
    Map<String, String> mdc = event.getMDCPropertyMap();
    b.append(" [").append(orEmpty(mdc.get("node"))).append(' ').append(orEmpty(mdc.get("tick"))).append("] ");
    String logger = event.getLoggerName();
    b.append(logger, logger.lastIndexOf('.') + 1, logger.length()).append(": ");
    b.append(event.getFormattedMessage()).append(CoreConstants.LINE_SEPARATOR);
    IThrowableProxy thrown = event.getThrowableProxy();
    if (thrown != null) {
      b.append(ThrowableProxyUtil.asString(thrown)); // ends with a line separator
    }
    return b.toString();
  }

  /** yyyy-MM-dd'T'HH:mm:ss.SSSXXX in the agent's time zone. */
  private void timestamp(StringBuilder b, long epochMillis) {
    ZoneOffset offset = zone.getRules().getOffset(java.time.Instant.ofEpochMilli(epochMillis));
    LocalDateTime t = LocalDateTime.ofEpochSecond(Math.floorDiv(epochMillis, 1000L),
        (int) Math.floorMod(epochMillis, 1000L) * 1_000_000, offset);
    digits(b, t.getYear(), 4).append('-');
    digits(b, t.getMonthValue(), 2).append('-');
    digits(b, t.getDayOfMonth(), 2).append('T');
    digits(b, t.getHour(), 2).append(':');
    digits(b, t.getMinute(), 2).append(':');
    digits(b, t.getSecond(), 2).append('.');
    digits(b, t.getNano() / 1_000_000, 3);
    int seconds = offset.getTotalSeconds();
    if (seconds == 0) {
      b.append('Z');
      return;
    }
    // XXX: the hours and minutes of the offset; a zone offset in seconds is historical only.
    b.append(seconds < 0 ? '-' : '+');
    int minutes = Math.abs(seconds) / 60;
    digits(b, minutes / 60, 2).append(':');
    digits(b, minutes % 60, 2);
  }

  private static StringBuilder digits(StringBuilder b, int value, int width) {
    String s = Integer.toString(value);
    for (int i = s.length(); i < width; i++) {
      b.append('0');
    }
    return b.append(s);
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }
}
