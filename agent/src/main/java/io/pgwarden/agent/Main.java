package io.pgwarden.agent;

import io.pgwarden.agent.cli.ClusterCommands;
import io.pgwarden.agent.cli.LocalCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the single runnable jar: the agent and the operator CLI. */
@Command(
    name = "pgwarden",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "High availability for PostgreSQL with a leased leader key in etcd.",
    subcommands = {
      AgentCommand.class,
      LocalCommand.class,
      ClusterCommands.ListCommand.class,
      ClusterCommands.TopologyCommand.class,
      ClusterCommands.HistoryCommand.class,
      ClusterCommands.ShowConfigCommand.class,
      ClusterCommands.VersionCommand.class
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs a command line and returns the exit code (tests call this without exiting). */
  public static int run(String... args) {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler(
        (e, cmd, parse) -> {
          cmd.getErr().println("pgwarden: " + e.getMessage());
          return e instanceof IllegalArgumentException ? 2 : 1;
        });
    return cl.execute(args);
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
  }

  public static String version() {
    String v = Main.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"pgwarden " + version()};
    }
  }
}
