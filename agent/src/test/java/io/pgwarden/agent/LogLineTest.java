package io.pgwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.time.ZoneId;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The hand-written line must read exactly as logback's PatternLayout with LogLine.PATTERN writes it. */
class LogLineTest {
  private static final LoggerContext CONTEXT = new LoggerContext();

  static Stream<Arguments> events() {
    return Stream.of(
        Arguments.of("UTC", 1_795_836_000_123L, Level.INFO, "io.pgwarden.agent.loop.ReconcileLoop",
            Map.of("node", "node1", "tick", "42"), "no action: streaming from the leader {}", new Object[] {"node3"}, null),
        Arguments.of("Asia/Kolkata", 1_795_836_000_007L, Level.WARN, "io.pgwarden.agent.postgres.PostgresNode",
            Map.of("node", "n2"), "pg_rewind failed: {}", new Object[] {"exit 1"}, null),
        Arguments.of("America/St_Johns", 0L, Level.ERROR, "Root", Map.of(), "etcd unreachable", null,
            new IllegalStateException("boom", new java.io.IOException("connection refused"))),
        Arguments.of("Europe/Berlin", 1_790_000_000_999L, Level.DEBUG, "x.y.Z$Inner", Map.of("tick", "7"), "",
            null, null),
        Arguments.of("America/New_York", 1_795_836_000_000L, Level.TRACE, "a.B", Map.of(), "{} and {}", new Object[] {1, "two"}, null));
  }

  @ParameterizedTest
  @MethodSource("events")
  void writesWhatThePatternWrites(String zone, long millis, Level level, String logger, Map<String, String> mdc,
      String message, Object[] args, Throwable thrown) {
    LoggingEvent event = new LoggingEvent(LogLineTest.class.getName(), CONTEXT.getLogger(logger), level, message,
        thrown, args);
    event.setTimeStamp(millis);
    event.setMDCPropertyMap(mdc);

    PatternLayout reference = new PatternLayout();
    reference.setContext(CONTEXT);
    reference.setPattern(LogLine.PATTERN.replace("SSSXXX}", "SSSXXX, " + zone + "}"));
    reference.start();
    LogLine line = new LogLine(ZoneId.of(zone));
    line.setContext(CONTEXT);
    line.start();

    String expected = reference.doLayout(event);
    assertThat(line.doLayout(event)).isEqualTo(expected);
    if (thrown != null) {
      assertThat(expected).contains("connection refused");
    }
  }
}
