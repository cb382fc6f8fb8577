package io.pgwarden.agent.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

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

  @Test
  void pgpassEscapesColonAndBackslash() {
    assertThat(PgText.pgpassLine("rep:l", "p:a\\ss")).isEqualTo("*:*:*:rep\\:l:p\\:a\\\\ss");
  }

  @Test
  void sqlIdentifiersDoubleTheirQuotes() {
    assertThat(PgText.sqlIdentifier("we\"ird")).isEqualTo("\"we\"\"ird\"");
  }
}
