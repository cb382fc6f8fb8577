package io.pgwarden.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.model.SynchronousMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Invalid config is rejected with a message that names the field (DESIGN.md "Config"). */
class ConfigLoaderTest {
  static final String VALID = String.join("\n",
      "scope: main",
      "name: node1",
      "namespace: /pgwarden",
      "etcd:",
      "  endpoints: [http://127.0.0.1:2379, https://etcd2.example:2379]",
      "  auth: { username: root, password_file: /etc/pgwarden/etcd.pw }",
      "  tls: { ca: /etc/pgwarden/ca.pem, cert: /etc/pgwarden/c.pem, key: /etc/pgwarden/c.key }",
      "api: { listen: 127.0.0.1:8008, connect_address: 10.0.0.1:8008 }",
      "postgresql:",
      "  bin_dir: /usr/lib/postgresql/15/bin",
      "  data_dir: /var/lib/pgwarden/node1",
      "  listen: 127.0.0.1:5432",
      "  connect_address: 10.0.0.1:5432",
      "  authentication:",
      "    superuser: { username: postgres, password_env: PGW_SUPERUSER_PASSWORD }",
      "    replication: { username: replicator, password_file: /etc/pgwarden/repl.pw }",
      "  parameters: { max_connections: 100, shared_buffers: 128MB }",
      "tags: { nofailover: false, noloadbalance: true, failover_priority: 3, datacenter: dc1, rack: 3, ssd: true }",
      "bootstrap: { ttl: 30, loop_wait: 10, retry_timeout: 10, maximum_lag_on_failover: 1048576,",
      "  synchronous_mode: strict }",
      "");

  @Test
  void aFullConfigLoads() {
    AgentConfig c = ConfigLoader.parse(VALID);
    assertThat(c.scope()).isEqualTo("main");
    assertThat(c.name()).isEqualTo("node1");
    assertThat(c.keys().leader()).isEqualTo("/pgwarden/main/leader");
    assertThat(c.etcd().endpoints()).containsExactly("http://127.0.0.1:2379", "https://etcd2.example:2379");
    assertThat(c.etcd().auth().passwordFile()).isEqualTo("/etc/pgwarden/etcd.pw");
    assertThat(c.etcd().tls().key()).isEqualTo("/etc/pgwarden/c.key");
    assertThat(c.api().listen()).isEqualTo(new HostPort("127.0.0.1", 8008));
    assertThat(c.api().url()).isEqualTo("http://10.0.0.1:8008");
    assertThat(c.postgresql().dataDir()).isEqualTo("/var/lib/pgwarden/node1");
    assertThat(c.postgresql().connectAddress()).isEqualTo(new HostPort("10.0.0.1", 5432));
    assertThat(c.postgresql().authentication().superuser().passwordEnv()).isEqualTo("PGW_SUPERUSER_PASSWORD");
    assertThat(c.postgresql().authentication().replication().username()).isEqualTo("replicator");
    assertThat(c.postgresql().parameters()).containsEntry("max_connections", 100);
    assertThat(c.tags().noloadbalance()).isTrue();
    assertThat(c.tags().failoverPriority()).isEqualTo(3);
    assertThat(c.tags().custom()).containsExactly(entry("datacenter", "dc1"), entry("rack", "3"), entry("ssd", "true"));
    assertThat(c.tags().value("rack")).isEqualTo("3");
    assertThat(c.tags().value("noloadbalance")).isEqualTo("true");
    assertThat(c.tags().value("zone")).isNull();
    assertThat(c.bootstrap().ttlDuration()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.bootstrap().synchronousMode()).isEqualTo(SynchronousMode.STRICT);
  }

  @Test
  void apiTlsAndCallbacksLoad() {
    AgentConfig c = ConfigLoader.parse(VALID.replace(
        "api: { listen: 127.0.0.1:8008, connect_address: 10.0.0.1:8008 }",
        "api: { listen: 127.0.0.1:8008, connect_address: 10.0.0.1:8008,"
            + " tls: { cert: /etc/pgwarden/api.pem, key: /etc/pgwarden/api.key } }\n"
            + "callbacks: { on_role_change: [/usr/local/bin/vip, --dev, eth0], on_stop: [/bin/logger], timeout: 5 }"));
    assertThat(c.api().url()).isEqualTo("https://10.0.0.1:8008");
    assertThat(c.api().tls().key()).isEqualTo("/etc/pgwarden/api.key");
    assertThat(c.api().tls().clientCa()).isNull();
    AgentConfig withClientCa = ConfigLoader.parse(VALID.replace(
        "api: { listen: 127.0.0.1:8008, connect_address: 10.0.0.1:8008 }",
        "api: { listen: 127.0.0.1:8008, tls: { cert: /a.pem, key: /a.key, client_ca: /ca.pem } }"));
    assertThat(withClientCa.api().tls().clientCa()).isEqualTo("/ca.pem");
    assertThat(c.callbacks().onRoleChange()).containsExactly("/usr/local/bin/vip", "--dev", "eth0");
    assertThat(c.callbacks().onStart()).isEmpty();
    assertThat(c.callbacks().timeout()).isEqualTo(5);
    assertThat(ConfigLoader.parse(VALID).callbacks()).isEqualTo(CallbacksConfig.NONE);
  }

  @Test
  void aShellStringCallbackIsRejectedNamingTheField() {
    assertThatThrownBy(() -> ConfigLoader.parse(VALID + "callbacks: { on_start: \"/bin/x start\" }\n"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("on_start");
  }

  @Test
  void defaultsApplyToAMinimalConfig() {
    AgentConfig c = ConfigLoader.parse(String.join("\n",
        "scope: main",
        "name: node1",
        "etcd: { endpoints: [http://127.0.0.1:2379] }",
        "api: { listen: 127.0.0.1:8008 }",
        "postgresql:",
        "  data_dir: /var/lib/pgwarden/node1",
        "  listen: 127.0.0.1:5432",
        "  authentication: { superuser: { username: postgres }, replication: { username: replicator } }",
        ""));
    assertThat(c.namespace()).isEqualTo("/pgwarden");
    assertThat(c.api().connectAddress()).isEqualTo(c.api().listen());
    assertThat(c.postgresql().binDir()).isEqualTo(PostgresConfig.DEFAULT_BIN_DIR);
    assertThat(c.bootstrap()).isEqualTo(DynamicConfig.DEFAULTS);
    assertThat(c.bootstrap().synchronousMode()).as("DESIGN.md: default on").isEqualTo(SynchronousMode.ON);
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        bad("an unknown top-level field", "scope: main", "scope: main\nscopes: other", "scopes"),
        bad("an unknown nested field", "  data_dir: /var/lib/pgwarden/node1", "  data_dri: /var/lib/pgwarden/node1",
            "postgresql.data_dri"),
        bad("an unknown field deep inside", "    replication: { username: replicator,",
            "    replication: { usename: replicator,", "replication.usename"),
        bad("a port out of range", "  listen: 127.0.0.1:5432", "  listen: 127.0.0.1:99999", "postgresql.listen"),
        bad("a port that is not a number", "api: { listen: 127.0.0.1:8008,", "api: { listen: 127.0.0.1:http,",
            "api.listen"),
        bad("a relative data_dir", "  data_dir: /var/lib/pgwarden/node1", "  data_dir: pgdata", "data_dir"),
        bad("a missing name", "name: node1\n", "", "name"),
        bad("bad scope characters", "scope: main", "scope: main/prod", "scope"),
        bad("an etcd endpoint without a scheme", "[http://127.0.0.1:2379,", "[127.0.0.1:2379,",
            "endpoints: '127.0.0.1:2379' needs a scheme: http://127.0.0.1:2379"),
        bad("an etcd endpoint without a port", "[http://127.0.0.1:2379,", "[http://127.0.0.1,", "endpoints"),
        bad("an etcd endpoint port out of range", "[http://127.0.0.1:2379,", "[http://127.0.0.1:99999,",
            "endpoints: 'http://127.0.0.1:99999' must look like http://host:port"),
        bad("an https etcd endpoint without tls settings", "  tls: { ca: /etc/pgwarden/ca.pem, cert: /etc/pgwarden/c.pem, key: /etc/pgwarden/c.key }\n",
            "", "endpoints: 'https://etcd2.example:2379' is https, but there are no etcd.tls settings"),
        bad("loop_wait + 2*retry_timeout > ttl in bootstrap", "loop_wait: 10, retry_timeout: 10",
            "loop_wait: 10, retry_timeout: 11", "bootstrap"),
        bad("an invalid synchronous_mode in bootstrap", "synchronous_mode: strict", "synchronous_mode: maybe",
            "synchronous_mode"),
        bad("a negative failover_priority", "failover_priority: 3", "failover_priority: -1", "failover_priority"),
        bad("two password sources", "password_file: /etc/pgwarden/repl.pw",
            "password_file: /etc/pgwarden/repl.pw, password: x", "replication"),
        bad("a key given twice", "name: node1", "name: node1\nname: node2", "name: duplicate key (line 3"),
        bad("a nested key given twice", "password_file: /etc/pgwarden/repl.pw",
            "password_file: /etc/pgwarden/repl.pw, password_file: /x",
            "postgresql.authentication.replication.password_file: duplicate key (line 16"),
        bad("a fraction for a whole number of seconds", "ttl: 30,", "ttl: 30.9,",
            "bootstrap.ttl: expected a whole number (line 19"),
        bad("a ttl beyond a whole number's range", "ttl: 30,", "ttl: 2147483648,", "bootstrap.ttl: number out of range"),
        bad("a fractional failover_priority", "failover_priority: 3", "failover_priority: 2.5",
            "tags.failover_priority: expected a whole number (line 18"),
        bad("a Patroni tag pgwarden does not implement", "datacenter: dc1", "replicatefrom: node2",
            "tags.replicatefrom is a Patroni tag pgwarden does not implement"),
        bad("a misspelt nofailover", "nofailover: false", "no_failover: true",
            "tags.no_failover is not a pgwarden tag: did you mean nofailover?"),
        bad("a tag of one's own that is a list", "datacenter: dc1", "datacenter: [dc1, dc2]", "tags.datacenter"));
  }

  static Arguments bad(String what, String from, String to, String field) {
    String yaml = VALID.replace(from + (from.endsWith("\n") ? "" : ""), to);
    if (yaml.equals(VALID)) {
      throw new IllegalStateException("test row does not change the config: " + what);
    }
    return Arguments.of(Named.of(what, yaml), field);
  }

  @ParameterizedTest(name = "{0} is rejected naming {1}")
  @MethodSource("invalid")
  void invalidConfigNamesTheField(String yaml, String field) {
    assertThatThrownBy(() -> ConfigLoader.parse(yaml))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(field);
  }

  static Stream<Arguments> secretsInBadInput() {
    String su = "    superuser: { username: postgres, password_env: PGW_SUPERUSER_PASSWORD }";
    String repl = "    replication: { username: replicator, password_file: /etc/pgwarden/repl.pw }";
    return Stream.of(
        leak("a password where the credentials belong", su, "    superuser: SUPERSECRET1",
            "postgresql.authentication.superuser: expected a mapping (line 15, column 16)"),
        leak("an unclosed quote", repl, "    replication: { username: replicator, password: \"SUPERSECRET2 }",
            "postgresql.authentication.replication: not valid YAML (line 21, column 1, in what begins at line 16"),
        leak("an unknown escape", repl, "    replication: { username: replicator, password: \"SUPER\\qSECRET3\" }",
            "postgresql.authentication.replication: not valid YAML (line 16"),
        leak("a colon inside a plain password", repl, "    replication: { username: replicator, password: SUPER: SECRET4 }",
            "postgresql.authentication.replication: not valid YAML (line 16"),
        leak("no space after the colon, in a flow mapping", repl,
            "    replication: { username: replicator, password:SUPERSECRET5 }",
            "postgresql.authentication.replication: unknown field, name not shown"),
        leak("no space after the colon, in a block mapping", su,
            "    superuser:\n      username: postgres\n      password:SUPERSECRET6",
            "postgresql.authentication.superuser: not valid YAML (line"));
  }

  static Arguments leak(String what, String from, String to, String expected) {
    String yaml = VALID.replace(from, to);
    if (yaml.equals(VALID)) {
      throw new IllegalStateException("test row does not change the config: " + what);
    }
    return Arguments.of(Named.of(what, yaml), to.replaceAll("(?s).*(SUPER.*SECRET\\d).*", "$1"), expected);
  }

  @ParameterizedTest(name = "{0}: the message names the field and line, not the value")
  @MethodSource("secretsInBadInput")
  void errorsNeverQuoteTheInput(String yaml, String secret, String expected) {
    assertThatThrownBy(() -> ConfigLoader.parse(yaml))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(expected)
        .hasMessageNotContaining(secret)
        .hasNoCause();
  }

  @Test
  void errorsGiveTheLineAndColumn() {
    assertThatThrownBy(() -> ConfigLoader.parse(VALID.replace("  data_dir: /var/lib/pgwarden/node1", "  data_dri: /x")))
        .hasMessage("postgresql.data_dri: unknown field 'data_dri' (line 11, column 3)");
    assertThatThrownBy(() -> ConfigLoader.parse(VALID.replace("failover_priority: 3", "failover_priority: [3]")))
        .hasMessage("tags.failover_priority: expected a whole number (line 18, column 68)");
    assertThatThrownBy(() -> ConfigLoader.parse(VALID.replace("api: { listen: 127.0.0.1:8008,", "api: { listen: [x],")))
        .hasMessage("api.listen: expected text (line 8, column 16)");
  }

  @Test
  void theRuleMessageGivesTheNumbers() {
    String yaml = VALID.replace("loop_wait: 10, retry_timeout: 10", "loop_wait: 10, retry_timeout: 11");
    assertThatThrownBy(() -> ConfigLoader.parse(yaml))
        .hasMessageContaining("loop_wait + 2*retry_timeout must be <= ttl")
        .hasMessageContaining("10 + 2*11 > 30");
  }

  @Test
  void anEmptyFileIsRejected() {
    assertThatThrownBy(() -> ConfigLoader.parse("  \n")).isInstanceOf(ConfigException.class)
        .hasMessageContaining("empty");
  }

  @Test
  void loadNamesTheFile(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, VALID.replace("  data_dir: /var/lib/pgwarden/node1", "  data_dri: /x"));
    assertThatThrownBy(() -> ConfigLoader.load(f)).isInstanceOf(ConfigException.class)
        .hasMessageContaining(f.toString()).hasMessageContaining("postgresql.data_dri");
    assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("missing.yaml")))
        .hasMessageContaining("missing.yaml").hasMessageContaining("no such file");
    Files.writeString(f, VALID);
    assertThat(ConfigLoader.load(f).name()).isEqualTo("node1");
  }

  // ---- dynamic config from etcd ----

  @Test
  void dynamicConfigParses() {
    DynamicConfig c = ConfigLoader.parseDynamic(
        "{\"ttl\":30,\"loop_wait\":10,\"retry_timeout\":10,\"maximum_lag_on_failover\":1048576,"
            + "\"synchronous_mode\":\"off\",\"synchronous_node_count\":2,\"pause\":true,"
            + "\"parameters\":{\"max_connections\":\"200\"}}");
    assertThat(c.ttl()).isEqualTo(30);
    assertThat(c.loopWaitDuration()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.maximumLagOnFailover()).isEqualTo(1048576L);
    assertThat(c.synchronousMode()).isEqualTo(SynchronousMode.OFF);
    assertThat(c.synchronousNodeCount()).isEqualTo(2);
    assertThat(c.paused()).isTrue();
    assertThat(c.parameters()).containsEntry("max_connections", "200");
  }

  @Test
  void dynamicConfigAcceptsPatroniBooleansForSynchronousMode() {
    assertThat(ConfigLoader.parseDynamic("{\"synchronous_mode\":true}").synchronousMode())
        .isEqualTo(SynchronousMode.ON);
    assertThat(ConfigLoader.parseDynamic("{\"synchronous_mode\":false}").synchronousMode())
        .isEqualTo(SynchronousMode.OFF);
  }

  @Test
  void dynamicParameterValuesMayHoldQuotesAndNumbers() {
    DynamicConfig c = ConfigLoader.parseDynamic(
        "{\"parameters\":{\"max_connections\":200,\"application_name\":\"it's \\\\ ok\"}}");
    assertThat(c.parameters()).containsEntry("max_connections", "200").containsEntry("application_name", "it's \\ ok");
  }

  @Test
  void anEmptyObjectIsTheDefaults() {
    assertThat(ConfigLoader.parseDynamic("{}")).isEqualTo(DynamicConfig.DEFAULTS);
  }

  @Test
  void anEmptyOrNullValueIsRejectedNotTakenForTheDefaults() {
    assertThatThrownBy(() -> ConfigLoader.parseDynamic("")).isInstanceOf(ConfigException.class)
        .hasMessage("the value is empty (write {} for all defaults)");
    assertThatThrownBy(() -> ConfigLoader.parseDynamic(" \n")).isInstanceOf(ConfigException.class)
        .hasMessageContaining("empty");
    assertThatThrownBy(() -> ConfigLoader.parseDynamic("null")).isInstanceOf(ConfigException.class)
        .hasMessageContaining("null");
  }

  static Stream<Arguments> invalidDynamic() {
    return Stream.of(
        Arguments.of(Named.of("an unknown field", "{\"ttl\":30,\"loop_wiat\":5}"), "loop_wiat"),
        Arguments.of(Named.of("an invalid synchronous_mode", "{\"synchronous_mode\":\"sometimes\"}"),
            "synchronous_mode"),
        Arguments.of(Named.of("loop_wait + 2*retry_timeout > ttl", "{\"ttl\":10,\"loop_wait\":5,\"retry_timeout\":5}"),
            "loop_wait + 2*retry_timeout must be <= ttl"),
        Arguments.of(Named.of("a ttl that is not a number", "{\"ttl\":\"long\"}"), "ttl"),
        Arguments.of(Named.of("a ttl beyond a whole number's range (once called a duplicate key)",
            "{\"ttl\":2147483648}"), "ttl: number out of range (at most 2147483647)"),
        Arguments.of(Named.of("a negative maximum_lag_on_failover", "{\"maximum_lag_on_failover\":-1}"),
            "maximum_lag_on_failover"),
        Arguments.of(Named.of("a bad parameter name", "{\"parameters\":{\"Max Connections\":\"1\"}}"),
            "parameters"),
        Arguments.of(Named.of("a parameter pgwarden manages", "{\"parameters\":{\"port\":\"5433\"}}"),
            "parameters.port"),
        Arguments.of(Named.of("a parameter value with a newline",
            "{\"parameters\":{\"work_mem\":\"8MB\\nshared_preload_libraries = 'evil'\"}}"),
            "parameters.work_mem"),
        Arguments.of(Named.of("a parameter without a value", "{\"parameters\":{\"work_mem\":null}}"),
            "parameters.work_mem"),
        Arguments.of(Named.of("a key given twice", "{\"ttl\":30,\"ttl\":20}"), "ttl: duplicate key"),
        Arguments.of(Named.of("a parameter given twice", "{\"parameters\":{\"work_mem\":\"4MB\",\"work_mem\":\"8MB\"}}"),
            "parameters.work_mem: duplicate key"),
        Arguments.of(Named.of("a fraction for a whole number of seconds", "{\"ttl\":10.9}"),
            "ttl: expected a whole number (line 1, column 8)"),
        Arguments.of(Named.of("a fraction for a whole number of bytes", "{\"maximum_lag_on_failover\":1.5}"),
            "maximum_lag_on_failover: expected a whole number"),
        Arguments.of(Named.of("not JSON", "ttl=30"), "not valid JSON (line 1, column 1)"),
        Arguments.of(Named.of("a word where true or false belongs", "{\"pause\":\"SECRETISH\"}"),
            "pause: expected true or false (line 1, column 10)"));
  }

  @ParameterizedTest(name = "{0} is rejected naming {1}")
  @MethodSource("invalidDynamic")
  void invalidDynamicConfigNamesTheField(String json, String field) {
    assertThatThrownBy(() -> ConfigLoader.parseDynamic(json))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(field)
        .hasMessageNotContaining("SECRETISH");
  }
}
