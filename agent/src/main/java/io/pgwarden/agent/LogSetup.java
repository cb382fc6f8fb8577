package io.pgwarden.agent;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Logback's configuration in code, found through {@code META-INF/services}: one line per decision on
 * stdout, with the node and loop tick ({@link LogLine}). In code rather than in a logback.xml because
 * parsing XML loads logback's Joran and the JDK's XML parser, ~500 classes that stay in the agent's
 * memory for good (docs/benchmarks.md, "Idle RSS").
 *
 * <p>An operator's own file still wins: with {@code -Dlogback.configurationFile=FILE} (or a
 * logback-test.xml on the class path, as in the tests) logback reads that file as usual.
 * {@code PGWARDEN_LOG_LEVEL} sets the root level (default INFO).
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_NORMAL_PRIORITY)
public final class LogSetup extends ContextAwareBase implements Configurator {
  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null
        || LogSetup.class.getClassLoader().getResource("logback-test.xml") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    LogLine layout = new LogLine();
    layout.setContext(context);
    layout.start();
    LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
    encoder.setContext(context);
    encoder.setLayout(layout);
    encoder.start();
    ConsoleAppender<ILoggingEvent> out = new ConsoleAppender<>();
    out.setContext(context);
    out.setName("OUT");
    out.setEncoder(encoder);
    out.start();

    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(System.getenv("PGWARDEN_LOG_LEVEL"), Level.INFO));
    root.addAppender(out);
    context.getLogger("io.grpc").setLevel(Level.WARN);
    context.getLogger("io.netty").setLevel(Level.WARN);
    // jetcd logs every internal retry; pgwarden reports what failed, once, in its own words.
    context.getLogger("io.etcd").setLevel(Level.ERROR);
    context.getLogger("io.vertx").setLevel(Level.WARN);
    context.getLogger("org.postgresql").setLevel(Level.WARN);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }
  /**
   * For the operator CLI: its log lines go to stderr, so that stdout holds only what the command prints
   * (a table, JSON, a connection string) for scripts to read; and only warnings and errors, unless {@code
   * verbose} (local, whose progress an operator watches) or PGWARDEN_LOG_LEVEL says otherwise. Only where
   * this configuration is in force, not an operator's own file.
   */
  public static void forCli(boolean verbose) {
    if (!(org.slf4j.LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return;
    }
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    if (!(root.getAppender("OUT") instanceof ConsoleAppender<ILoggingEvent> out)) {
      return;
    }
    out.stop();
    out.setTarget("System.err");
    out.start();
    if (System.getenv("PGWARDEN_LOG_LEVEL") == null && !verbose) {
      root.setLevel(Level.WARN);
    }
  }
}
