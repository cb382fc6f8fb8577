package io.pgwarden.common.decide;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.common.decide.ParameterChecks.Rejection;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ParameterChecksTest {
  private static final String PREFIX = "2026-11-27 10:00:00.000 UTC [4242] ";
  private static final String BAD_WORK_MEM = PREFIX + "LOG:  invalid value for parameter \"work_mem\": \"lots\"\n";
  private static final String HINT = PREFIX + "HINT:  Valid units for this parameter are \"B\", \"kB\", \"MB\".\n";
  private static final String UNKNOWN = PREFIX
      + "LOG:  unrecognized configuration parameter \"no_such\" in file \"/pg/data/postgresql.conf\" line 7\n";
  private static final String BAD_PORT = PREFIX + "LOG:  invalid value for parameter \"port\": \"x\"\n";
  private static final String FATAL = PREFIX
      + "FATAL:  configuration file \"/pg/data/postgresql.conf\" contains errors\n";

  /** One row: a failed {@code postgres -C}'s output, what is configured and rejected, and the new rejections. */
  record Row(String name, String stderr, Map<String, ?> local, Map<String, String> dynamic,
      Map<String, String> known, List<Rejection> expected) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static Rejection workMem(String value) {
    return new Rejection("work_mem", value, "invalid value for parameter \"work_mem\": \"lots\"");
  }

  static Stream<Row> rows() {
    return Stream.of(
        new Row("the operator's local value", BAD_WORK_MEM + HINT + FATAL, Map.of("work_mem", "lots"), Map.of(),
            Map.of(), List.of(workMem("lots"))),
        new Row("a value from /config", BAD_WORK_MEM + FATAL, Map.of(), Map.of("work_mem", "lots"), Map.of(),
            List.of(workMem("lots"))),
        new Row("the local value wins over /config", BAD_WORK_MEM + FATAL, Map.of("work_mem", "lots"),
            Map.of("work_mem", "4MB"), Map.of(), List.of(workMem("lots"))),
        new Row("a non-string local value as text", BAD_WORK_MEM + FATAL, Map.of("work_mem", 12), Map.of(), Map.of(),
            List.of(workMem("12"))),
        new Row("an unknown name, in the order named", BAD_WORK_MEM + UNKNOWN + FATAL, Map.of("work_mem", "lots"),
            Map.of("no_such", "1"), Map.of(), List.of(workMem("lots"), new Rejection("no_such", "1",
                "unrecognized configuration parameter \"no_such\" in file \"/pg/data/postgresql.conf\" line 7"))),
        new Row("pgwarden's own setting: not the operator's to fix", BAD_PORT + FATAL, Map.of("work_mem", "lots"),
            Map.of(), Map.of(), List.of()),
        new Row("only the closing FATAL: left for pg_ctl", FATAL, Map.of("work_mem", "lots"), Map.of(), Map.of(),
            List.of()),
        new Row("already rejected at this value", BAD_WORK_MEM + FATAL, Map.of("work_mem", "lots"), Map.of(),
            Map.of("work_mem", "lots"), List.of()),
        new Row("rejected before at another value", BAD_WORK_MEM + FATAL, Map.of("work_mem", "lots"), Map.of(),
            Map.of("work_mem", "much"), List.of(workMem("lots"))),
        new Row("named twice, counted once", BAD_WORK_MEM + BAD_WORK_MEM + FATAL, Map.of("work_mem", "lots"),
            Map.of(), Map.of(), List.of(workMem("lots"))),
        new Row("nothing named", "", Map.of("work_mem", "lots"), Map.of(), Map.of(), List.of()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void rejectedByCheck(Row r) {
    assertThat(ParameterChecks.rejectedByCheck(r.stderr(), r.local(), r.dynamic(), r.known()))
        .containsExactlyElementsOf(r.expected());
  }

  @Test
  void configuredPrefersTheNodesOwnValue() {
    assertThat(ParameterChecks.configured("work_mem", Map.of("work_mem", 8), Map.of("work_mem", "4MB")))
        .isEqualTo("8");
    assertThat(ParameterChecks.configured("work_mem", Map.of(), Map.of("work_mem", "4MB"))).isEqualTo("4MB");
    assertThat(ParameterChecks.configured("port", Map.of(), Map.of("work_mem", "4MB"))).isNull();
  }

  /** After a reload, PostgreSQL names the bad settings in pg_file_settings: the same rule decides what is news. */
  @Test
  void newlyRejectedIsTheOperatorsValueWhenNotAlreadyRejectedAtIt() {
    Map<String, String> none = Map.of();
    assertThat(ParameterChecks.newlyRejected("work_mem", Map.of(), Map.of("work_mem", "lots"), none))
        .isEqualTo("lots");
    assertThat(ParameterChecks.newlyRejected("work_mem", Map.of("work_mem", 12), Map.of("work_mem", "lots"), none))
        .as("the node's own value wins").isEqualTo("12");
    assertThat(ParameterChecks.newlyRejected("port", Map.of(), Map.of("work_mem", "lots"), none))
        .as("pgwarden's own setting").isNull();
    assertThat(ParameterChecks.newlyRejected("work_mem", Map.of(), Map.of("work_mem", "lots"),
        Map.of("work_mem", "lots"))).as("already rejected at this value").isNull();
    assertThat(ParameterChecks.newlyRejected("work_mem", Map.of(), Map.of("work_mem", "lots"),
        Map.of("work_mem", "much"))).as("rejected before at another value").isEqualTo("lots");
  }
}
