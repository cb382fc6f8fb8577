package io.pgwarden.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgwarden.common.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator's walk-through, with the real commands: {@code pgwarden local up}, {@code etcdctl} to
 * read the leader, {@code pgwarden local kill} to power it off, {@code psql} through the printed
 * connection string, {@code pgwarden local start} to bring it back as a replica, {@code local down} and
 * {@code local up} again in the same folder.
 */
class LocalCliIT {
  private static final Duration TTL = Duration.ofSeconds(12);
  private static Path base;
  private static Path dir;

  @BeforeAll
  static void folder() throws IOException {
    base = Files.createTempDirectory("pgwarden-cli-");
    Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
    dir = base.resolve("local");
  }

  @AfterAll
  static void down() throws Exception {
    run(pgwarden("local", "down", "--dir", dir.toString()), Map.of(), Duration.ofMinutes(3));
    try (var files = Files.walk(base)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }

  @Test
  void localUpThenKillTheLeaderThenStartItAgain() throws Exception {
    Result up = run(pgwarden("local", "up", "--nodes", "3", "--scope", "cli", "--dir", dir.toString(),
        "--ttl", "12", "--loop-wait", "2", "--retry-timeout", "5"), Map.of(), Duration.ofMinutes(4));
    assertThat(up.code).as(up.out).isZero();
    assertThat(up.out).contains("healthy: leader");
    List<String> etcdctl = etcdctlCommand(up.out);
    String conn = match(up.out, "psql \"([^\"]+)\"");
    String password = Files.readString(dir.resolve("secrets/superuser")).strip();

    String leader = run(etcdctl, Map.of("ETCDCTL_API", "3"), Duration.ofSeconds(20)).out.strip();
    assertThat(leader).matches("node[123]");

    long killed = System.nanoTime();
    Result kill = run(pgwarden("local", "kill", leader, "--dir", dir.toString()), Map.of(), Duration.ofSeconds(60));
    assertThat(kill.code).as(kill.out).isZero();
    await("another leader in etcd").atMost(TTL.multipliedBy(2)).pollInterval(Duration.ofMillis(500))
        .until(() -> {
          String now = run(etcdctl, Map.of("ETCDCTL_API", "3"), Duration.ofSeconds(10)).out.strip();
          return now.matches("node[123]") && !now.equals(leader);
        });
    String newLeader = run(etcdctl, Map.of("ETCDCTL_API", "3"), Duration.ofSeconds(10)).out.strip();
    System.out.println("local cluster: " + leader + " killed, " + newLeader + " leads after "
        + Duration.ofNanos(System.nanoTime() - killed).toMillis() + " ms");

    List<String> psql = List.of("psql", conn + " connect_timeout=3", "-v", "ON_ERROR_STOP=1",
        "-c", "CREATE TABLE IF NOT EXISTS guestbook (id serial PRIMARY KEY, note text)",
        "-c", "INSERT INTO guestbook (note) VALUES ('after the failover')");
    await("an INSERT through the printed connection string").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> run(psql, Map.of("PGPASSWORD", password), Duration.ofSeconds(20)).code == 0);
    System.out.println("local cluster: first INSERT after " + Duration.ofNanos(System.nanoTime() - killed).toMillis() + " ms");

    Result start = run(pgwarden("local", "start", leader, "--dir", dir.toString()), Map.of(), Duration.ofSeconds(60));
    assertThat(start.code).as(start.out).isZero();
    List<String> newLeaderStatus = new ArrayList<>(etcdctl);
    newLeaderStatus.set(newLeaderStatus.size() - 2, "/pgwarden/cli/members/" + newLeader);
    String newLeaderConn = Json.LENIENT.readTree(run(newLeaderStatus, Map.of("ETCDCTL_API", "3"),
        Duration.ofSeconds(10)).out).get("conn_url").asText();
    List<String> oldLeaderStatus = new ArrayList<>(etcdctl);
    oldLeaderStatus.set(oldLeaderStatus.size() - 2, "/pgwarden/cli/members/" + leader);
    await(leader + " streams from " + newLeader).atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
        .until(() -> {
          String json = run(oldLeaderStatus, Map.of("ETCDCTL_API", "3"), Duration.ofSeconds(10)).out;
          if (json.isBlank()) {
            return false;
          }
          JsonNode m = Json.LENIENT.readTree(json);
          return "replica".equals(m.path("role").asText()) && m.path("streaming").asBoolean()
              && newLeaderConn.equals(m.path("upstream").asText());
        });

    Result status = run(pgwarden("local", "status", "--dir", dir.toString()), Map.of(), Duration.ofSeconds(60));
    assertThat(status.code).isZero();
    assertThat(status.out).contains("| " + newLeader).contains("Leader").contains("streaming");

    // Down and up again: the same cluster, data, passwords and connection string.
    Result down = run(pgwarden("local", "down", "--dir", dir.toString()), Map.of(), Duration.ofMinutes(3));
    assertThat(down.code).as(down.out).isZero();
    assertThat(down.out).contains("`pgwarden local up --dir " + dir + "` starts it again");
    Result refused = run(pgwarden("local", "up", "--dir", dir.toString(), "--nodes", "5"), Map.of(),
        Duration.ofMinutes(1));
    assertThat(refused.code).as(refused.out).isNotZero();
    assertThat(refused.out).contains("holds a stopped cluster").contains("--nodes cannot change it");
    Result again = run(pgwarden("local", "up", "--dir", dir.toString()), Map.of(), Duration.ofMinutes(4));
    assertThat(again.code).as(again.out).isZero();
    assertThat(again.out).contains("local cluster 'cli' starting again").contains("healthy: leader");
    assertThat(match(again.out, "psql \"([^\"]+)\"")).isEqualTo(conn);
    assertThat(Files.readString(dir.resolve("secrets/superuser")).strip()).isEqualTo(password);
    List<String> count = List.of("psql", conn + " connect_timeout=3", "-At", "-v", "ON_ERROR_STOP=1",
        "-c", "SELECT count(*) FROM guestbook WHERE note = 'after the failover'");
    Result rows = run(count, Map.of("PGPASSWORD", password), Duration.ofSeconds(30));
    assertThat(rows.code).as(rows.out).isZero();
    assertThat(rows.out.strip()).isEqualTo("1");
  }

  // ---- plumbing ----

  record Result(int code, String out) {}

  private static List<String> pgwarden(String... args) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", System.getProperty("pgwarden.jar")));
    cmd.addAll(Arrays.asList(args));
    return cmd;
  }

  /** The `etcdctl ... get KEY --print-value-only` command `local up` printed, as an argument list. */
  private static List<String> etcdctlCommand(String out) {
    String line = match(out, "leader:\\s+ETCDCTL_API=3 (etcdctl [^\\n]+)");
    return new ArrayList<>(Arrays.asList(line.strip().split("\\s+")));
  }

  private static String match(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as("output has " + regex + ":\n" + text).isTrue();
    return m.group(1);
  }

  private static Result run(List<String> cmd, Map<String, String> env, Duration timeout) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    Path out = Files.createTempFile("pgwarden-cli-out", ".txt");
    pb.redirectOutput(out.toFile());
    Process p = pb.start();
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(cmd + " did not finish within " + timeout + ":\n" + Files.readString(out));
    }
    String text = Files.readString(out, StandardCharsets.UTF_8);
    Files.deleteIfExists(out);
    return new Result(p.exitValue(), text);
  }
}
