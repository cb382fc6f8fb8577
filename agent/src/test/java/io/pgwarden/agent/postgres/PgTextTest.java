package io.pgwarden.agent.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PgTextTest {

  @Test
  void conninfoValuesAreQuotedAndRoundTrip() {
    Map<String, String> kv = new LinkedHashMap<>();
    kv.put("host", "db 1");
    kv.put("user", "o'brien\\x");
    kv.put("passfile", "/var/lib/pg/data.pgpass");

    String ci = PgText.conninfo(kv);

    assertThat(ci).isEqualTo("host='db 1' user='o\\'brien\\\\x' passfile='/var/lib/pg/data.pgpass'");
    assertThat(PgText.parseConninfo(ci)).isEqualTo(kv);
  }

  @Test
  void parsesBareAndSpacedConninfo() {
    assertThat(PgText.parseConninfo("host=10.0.0.1 port = 5433  user=rep application_name=n1"))
        .containsEntry("host", "10.0.0.1").containsEntry("port", "5433").containsEntry("user", "rep");
    assertThat(PgText.parseConninfo("")).isEmpty();
  }

  @Test
  void gucStringsNeverBreakALine() {
    assertThat(PgText.gucString("8MB\nshared_preload_libraries = 'evil'"))
        .isEqualTo("'8MB\\nshared_preload_libraries = ''evil'''")
        .doesNotContain("\n");
    assertThat(PgText.gucString("a\rb\tc\u0001")).isEqualTo("'a\\rb\\tc\\001'");
  }

  @Test
  void gucStringsDoubleQuotesAndBackslashes() {
    assertThat(PgText.gucString("user='a\\b'")).isEqualTo("'user=''a\\\\b'''");
  }

  @ParameterizedTest
  @ValueSource(strings = {"*", "", "o'brien", "a\\b", "ends with \\", "\\'", "''", "\"node 1\",node2",
      "ANY 1 (\"node 1\",node2)", "FIRST 2 (n1, n2)", "8MB\nshared_preload_libraries = 'evil'", "a\rb\tc\u0001\u007f"})
  void confValuesReadBackWhatGucStringWrote(String value) {
    String file = "# Written by pgwarden\nsynchronous_standby_names = " + PgText.gucString(value) + "\n";

    assertThat(PgText.confValue(file, "synchronous_standby_names")).contains(value);
  }

  @Test
  void confValuesComeOnlyFromTheirOwnUncommentedLine() {
    String file = "#synchronous_standby_names = 'n1'\n"
        + "  # synchronous_standby_names = 'n2'\n"
        + "synchronous_commit = 'on'\n"
        + "primary_slot_name = 'synchronous_standby_names'\n";

    assertThat(PgText.confValue(file, "synchronous_standby_names")).isEmpty();
    assertThat(PgText.confValue(file, "synchronous_commit")).contains("on");
    assertThat(PgText.confValue("", "synchronous_commit")).isEmpty();
  }

  @Test
  void pgpassEscapesColonAndBackslash() {
    assertThat(PgText.pgpassLine("rep:l", "p:a\\ss")).isEqualTo("*:*:*:rep\\:l:p\\:a\\\\ss");
  }

  @Test
  void sqlIdentifiersDoubleTheirQuotes() {
    assertThat(PgText.sqlIdentifier("we\"ird")).isEqualTo("\"we\"\"ird\"");
  }
}
