package io.sluice.it.chaos;

import java.util.HashMap;
import java.util.Map;

/** The {@code --name=value} command line of the chaos pipelines' child JVMs. */
final class PipelineArgs {

  private PipelineArgs() {}

  /**
   * The arguments by name; a malformed one ends the JVM with exit code 2 after naming it on
   * standard error.
   */
  static Map<String, String> parse(String[] argv) {
    Map<String, String> a = new HashMap<>();
    for (String s : argv) {
      int eq = s.indexOf('=');
      if (!s.startsWith("--") || eq < 0) {
        System.err.println("bad arguments: expected --name=value, was '" + s + "'");
        System.exit(2);
      }
      a.put(s.substring(2, eq), s.substring(eq + 1));
    }
    return a;
  }
}
