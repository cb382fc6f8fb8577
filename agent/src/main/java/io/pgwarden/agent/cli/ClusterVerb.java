package io.pgwarden.agent.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A verb on one cluster: checks its arguments, connects to etcd, runs, and always flushes its
 * output and closes the store — the part every verb shares.
 */
abstract class ClusterVerb implements Callable<Integer> {
  @Mixin ClusterTarget target;
  @Spec CommandSpec spec;

  /** Checks that need no cluster, run before connecting so a typo fails fast and the same way without etcd. */
  void checkArguments() {}

  /** Runs with an open store (closed afterwards); returns the exit code. */
  abstract int run(ClusterTarget.Connected c, PrintWriter out) throws Exception;

  @Override
  public final Integer call() throws Exception {
    checkArguments();
    PrintWriter out = spec.commandLine().getOut();
    ClusterTarget.Connected c = target.connect();
    try (var store = c.store()) {
      return run(c, out);
    } finally {
      out.flush();
    }
  }
}
