package io.pgwarden.agent;

import io.pgwarden.agent.cli.ChangeCommands;
import io.pgwarden.agent.cli.ClusterCommands;
import io.pgwarden.agent.cli.LocalCommand;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the single runnable jar: the agent and the operator CLI. */
@Command(
    name = "pgwarden",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "High availability for PostgreSQL with a leased leader key in etcd.")
public final class Main implements Runnable {
  /** The operator CLI's commands, after {@code agent} in this order in the usage. */
  private static Class<?>[] cliCommands() {
    return new Class<?>[] {
      LocalCommand.class,
      ClusterCommands.ListCommand.class,
      ClusterCommands.TopologyCommand.class,
      ClusterCommands.HistoryCommand.class,
      ClusterCommands.ShowConfigCommand.class,
      ChangeCommands.SwitchoverCommand.class,
      ChangeCommands.FailoverCommand.class,
      ChangeCommands.PauseCommand.class,
      ChangeCommands.ResumeCommand.class,
      ChangeCommands.SetConfigCommand.class,
      ChangeCommands.EditConfigCommand.class,
      ChangeCommands.RestartCommand.class,
      ChangeCommands.ReloadCommand.class,
      ChangeCommands.ReinitCommand.class,
      ChangeCommands.RemoveCommand.class,
      ClusterCommands.VersionCommand.class
    };
  }

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    if (args.length > 0 && !args[0].equals("agent")) {
      LogSetup.forCli(args[0].equals("local"));
    }
    System.exit(run(args));
  }

  /** Runs a command line and returns the exit code (tests call this without exiting). */
  public static int run(String... args) {
    return run(null, null, args);
  }

  /** The same, writing to {@code out} and {@code err} instead of the console (null: the console). */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cl = new CommandLine(new Main());
    cl.addSubcommand(new AgentCommand());
    // picocli builds a model of every subcommand it is given, loading and reflecting on each class: an
    // agent would keep ~400 classes it never uses for as long as it runs (docs/benchmarks.md, "Idle RSS").
    if (args.length == 0 || !args[0].equals("agent")) {
      for (Class<?> command : cliCommands()) {
        cl.addSubcommand(command);
      }
    }
    if (out != null) {
      cl.setOut(out);
    }
    if (err != null) {
      cl.setErr(err);
    }
    cl.setParameterExceptionHandler((e, argv) -> {
      // picocli leaves the usage out when it has a suggestion; an operator should always get both.
      CommandLine cmd = e.getCommandLine();
      cmd.getErr().println(e.getMessage());
      CommandLine.UnmatchedArgumentException.printSuggestions(e, cmd.getErr());
      cmd.usage(cmd.getErr());
      cmd.getErr().flush();
      return cmd.getCommandSpec().exitCodeOnInvalidInput();
    });
    cl.setExecutionExceptionHandler(
        (e, cmd, parse) -> {
          // One line: the operator made a mistake or the cluster refused; a stack trace helps neither.
          cmd.getErr().println("pgwarden: " + e.getMessage());
          cmd.getErr().flush();
          return e instanceof IllegalArgumentException ? 2 : 1;
        });
    int rc = cl.execute(args);
    cl.getOut().flush();
    cl.getErr().flush();
    return rc;
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
