package io.pgwarden.agent.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.model.SynchronousMode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ConfigEditsTest {
  private static final DynamicConfig BASE = new DynamicConfig(12, 2, 5, null, null, null, null,
      Map.of("max_connections", "100"));

  @Test
  void setsEveryKindOfField() {
    DynamicConfig c = ConfigEdits.apply(BASE, List.of("ttl=30", "loop_wait=5", "retry_timeout=10",
        "maximum_lag_on_failover=16MB", "synchronous_mode=strict", "synchronous_node_count=2", "pause=true",
        "parameters.work_mem=8MB"));
    assertThat(c.ttl()).isEqualTo(30);
    assertThat(c.loopWait()).isEqualTo(5);
    assertThat(c.retryTimeout()).isEqualTo(10);
    assertThat(c.maximumLagOnFailover()).isEqualTo(16L * 1024 * 1024);
    assertThat(c.synchronousMode()).isEqualTo(SynchronousMode.STRICT);
    assertThat(c.synchronousNodeCount()).isEqualTo(2);
    assertThat(c.paused()).isTrue();
    assertThat(c.parameters()).containsEntry("work_mem", "8MB").containsEntry("max_connections", "100");
  }

  @Test
  void nullResetsAFieldToItsDefaultAndRemovesAParameter() {
    DynamicConfig c = ConfigEdits.apply(BASE, List.of("ttl=null", "loop_wait=", "retry_timeout=null", "parameters.max_connections=null"));
    assertThat(c.ttl()).isEqualTo(DynamicConfig.DEFAULT_TTL);
    assertThat(c.loopWait()).isEqualTo(DynamicConfig.DEFAULT_LOOP_WAIT);
    assertThat(c.retryTimeout()).isEqualTo(DynamicConfig.DEFAULT_RETRY_TIMEOUT);
    assertThat(c.parameters()).doesNotContainKey("max_connections");
  }

  @ParameterizedTest(name = "{0} -> error naming {1}")
  @CsvSource(delimiter = '|', value = {
      "ttl=abc | ttl",
      "ttl=1 | ttl",
      "ttl=6 | ttl",
      "loop_wait=0 | loop_wait",
      "retry_timeout=-1 | retry_timeout",
      "maximum_lag_on_failover=much | maximum_lag_on_failover",
      "synchronous_mode=maybe | synchronous_mode",
      "synchronous_node_count=0 | synchronous_node_count",
      "pause=yes | pause",
      "tll=30 | tll",
      "parameters.Bad-Name=1 | parameters",
      "parameters.=1 | parameters",
      "ttl | ttl"})
  void invalidValuesAreRejectedNamingTheField(String setting, String field) {
    assertThatThrownBy(() -> ConfigEdits.apply(BASE, List.of(setting)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(field);
  }

  @Test
  void nothingToSetIsAnError() {
    assertThatThrownBy(() -> ConfigEdits.apply(BASE, List.of())).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("KEY=VALUE");
  }

  @Test
  void anEditedYamlIsValidatedLikeEtcdContent() {
    DynamicConfig c = ConfigEdits.parseEdited(ConfigEdits.yaml(BASE).replace("ttl: 12", "ttl: 40"));
    assertThat(c.ttl()).isEqualTo(40);
    assertThatThrownBy(() -> ConfigEdits.parseEdited("ttl: 12\nloop_wiat: 3\n"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("loop_wiat");
    assertThatThrownBy(() -> ConfigEdits.parseEdited("ttl: [unclosed\n"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("YAML");
  }

  @Test
  void anEditedYamlErrorPointsAtTheLineWithoutQuotingIt() {
    assertThatThrownBy(() -> ConfigEdits.parseEdited("ttl: 12\nparameters: { application_name: \"s3cret-ish }\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("parameters: not valid YAML (line 3, column 1, in what begins at line 2, column 33)")
        .hasMessageNotContaining("s3cret");
    assertThatThrownBy(() -> ConfigEdits.parseEdited("ttl: 12\nttl: 14\n"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("ttl: duplicate key (line 2");
  }

  @Test
  void theDiffMarksRemovedAndAddedLines() {
    String before = "a: 1\nb: 2\nc: 3\n";
    String after = "a: 1\nb: 20\nc: 3\nd: 4\n";
    assertThat(ConfigEdits.diff(before, after)).isEqualTo(" a: 1\n-b: 2\n+b: 20\n c: 3\n+d: 4\n");
  }

  @Test
  void theDiffOfEqualTextIsEmpty() {
    assertThat(ConfigEdits.diff("a: 1\n", "a: 1\n")).isEmpty();
  }

  @Test
  void theDiffOfARealChangeShowsOnlyThatField() {
    String d = ConfigEdits.diff(ConfigEdits.yaml(BASE), ConfigEdits.yaml(ConfigEdits.apply(BASE, List.of("ttl=30"))));
    assertThat(d.lines().filter(l -> l.startsWith("-") || l.startsWith("+")).toList())
        .containsExactly("-ttl: 12", "+ttl: 30");
  }

  @Test
  void aMergePatchSetsMergesAndResetsAsRfc7386Says() throws Exception {
    DynamicConfig base = ConfigEdits.apply(DynamicConfig.DEFAULTS,
        List.of("ttl=12", "parameters.work_mem=4MB", "parameters.temp_buffers=16MB"));
    DynamicConfig next = ConfigEdits.patched(base, io.pgwarden.common.json.Json.LENIENT.readTree(
        "{\"pause\":true,\"ttl\":null,\"parameters\":{\"work_mem\":\"8MB\",\"temp_buffers\":null,\"jit\":\"off\"}}"));

    assertThat(next.paused()).isTrue();
    assertThat(next.ttl()).isEqualTo(DynamicConfig.DEFAULTS.ttl());
    assertThat(next.parameters()).containsExactly(Map.entry("jit", "off"), Map.entry("work_mem", "8MB"));
    assertThat(ConfigEdits.changed(base, next))
        .containsExactly("parameters.jit", "parameters.temp_buffers", "parameters.work_mem", "pause", "ttl");
    assertThat(ConfigEdits.changed(next, next)).isEmpty();
  }

  @Test
  void patronisPlaceForParametersIsTakenButNothingElseUnderPostgresql() throws Exception {
    var json = io.pgwarden.common.json.Json.LENIENT;
    assertThat(ConfigEdits.replaced(json.readTree("{\"postgresql\":{\"parameters\":{\"jit\":\"off\"}}}"))
        .parameters()).containsExactly(Map.entry("jit", "off"));
    assertThatThrownBy(() -> ConfigEdits.replaced(json.readTree("{\"postgresql\":{\"use_slots\":true}}")))
        .hasMessageContaining("postgresql.use_slots is not a dynamic setting of pgwarden");
    assertThatThrownBy(() -> ConfigEdits.replaced(json.readTree(
        "{\"parameters\":{},\"postgresql\":{\"parameters\":{}}}"))).hasMessageContaining("parameters given twice");
    assertThatThrownBy(() -> ConfigEdits.patched(DynamicConfig.DEFAULTS, json.readTree("\"ttl\"")))
        .hasMessageContaining("must be a JSON object");
  }
}
