package io.pgwarden.harness;

import io.pgwarden.agent.Main;
import io.pgwarden.harness.cluster.TestCluster;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

/** The pgwarden CLI, run in-process against a test cluster's folder. */
final class Cli {
  private Cli() {}

  record Run(int rc, String out, String err) {}

  static Run run(TestCluster c, String verb, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    List<String> argv = new ArrayList<>();
    argv.add(verb);
    argv.add("--dir");
    argv.add(c.local().dir().toString());
    argv.addAll(List.of(args));
    int rc = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), argv.toArray(String[]::new));
    return new Run(rc, out.toString(), err.toString());
  }
}
