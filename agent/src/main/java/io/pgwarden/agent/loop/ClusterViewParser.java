package io.pgwarden.agent.loop;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import io.pgwarden.agent.port.RawKv;
import io.pgwarden.agent.port.RawScope;
import io.pgwarden.common.config.ConfigException;
import io.pgwarden.common.config.ConfigLoader;
import io.pgwarden.common.config.Keys;
import io.pgwarden.common.json.Json;
import io.pgwarden.common.model.ClusterView;
import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.model.HistoryEntry;
import io.pgwarden.common.model.LeaderRecord;
import io.pgwarden.common.model.Member;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Switchover;
import io.pgwarden.common.model.Topology;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Turns one etcd range read into a {@link ClusterView}. Pure. A value that does not parse becomes an
 * error line naming the key, never a guess; a bad {@code /config} is reported separately because
 * agents keep running on the last valid one.
 */
public final class ClusterViewParser {
  private static final TypeReference<List<HistoryEntry>> HISTORY = new TypeReference<>() {};

  private final Keys keys;
  /**
   * The last parse of each key's value, reused while the value is unchanged (same mod revision and
   * text): an idle loop otherwise parses the same JSON every tick. Not thread-safe, like its owner.
   */
  private final Map<String, Memo> memo = new HashMap<>();
  /**
   * The inputs and result of the last whole parse. An idle cluster's scope is the same on most ticks,
   * and building the view again from the memoised values still cost an idle agent ~10 % of its loop.
   */
  private RawScope lastScope;
  private DynamicConfig lastConfigArg;
  private Parsed lastParsed;

  /** A parsed value or the parse error, for one version of one key. */
  private record Memo(long modRevision, String value, Object parsed, Exception error) {}

  @FunctionalInterface
  private interface Parse {
    Object apply(String value) throws JsonProcessingException;
  }

  public ClusterViewParser(Keys keys) {
    this.keys = keys;
  }

  /** Parses {@code kv}'s value, or returns the result of the last parse of this very version. */
  private Object parsed(RawKv kv, Parse parse) throws JsonProcessingException {
    Memo m = memo.get(kv.key());
    if (m == null || m.modRevision() != kv.modRevision() || !m.value().equals(kv.value())) {
      try {
        Object value = parse.apply(kv.value());
        if (value == null) {
          // `null` is JSON, and Jackson reads it as no object at all: an unreadable value like any other,
          // never a key taken for absent.
          throw new IllegalArgumentException("the value is null, not a JSON object");
        }
        m = new Memo(kv.modRevision(), kv.value(), value, null);
      } catch (JsonProcessingException | RuntimeException e) {
        m = new Memo(kv.modRevision(), kv.value(), null, e);
      }
      memo.put(kv.key(), m);
    }
    if (m.error() instanceof JsonProcessingException e) {
      throw e;
    }
    if (m.error() instanceof RuntimeException e) {
      throw e;
    }
    return m.parsed();
  }

  /** The view, and the config error (null when {@code /config} was valid or absent). */
  /**
   * @param configError why {@code /config} was not used (the last valid config was kept); null when it was
   * @param switchoverError why {@code /switchover} was ignored; null when it was read or absent
   */
  /**
   * @param ignored member keys that could not be parsed but are bound to no lease, so no live agent wrote
   *     them: reported, but not among the view's errors, which would block every promotion for a stray key
   */
  public record Parsed(ClusterView view, String configError, String switchoverError, List<String> ignored) {}

  public Parsed parse(RawScope scope, DynamicConfig lastValidConfig) {
    // The result depends on nothing else, so equal inputs give an equal (here: the same) result.
    if (lastParsed != null && (scope == lastScope || scope.equals(lastScope))
        && (lastValidConfig == lastConfigArg || Objects.equals(lastValidConfig, lastConfigArg))) {
      // Equal inputs are kept as the last ones, so that the next tick, which passes the same objects (the
      // cached scope, the config this view carries), is told by identity: a record's equals goes through
      // method handles, which cost an idle agent more than anything else it compares.
      lastScope = scope;
      lastConfigArg = lastValidConfig;
      return lastParsed;
    }
    lastParsed = parseAnew(scope, lastValidConfig);
    lastScope = scope;
    lastConfigArg = lastValidConfig;
    return lastParsed;
  }

  private Parsed parseAnew(RawScope scope, DynamicConfig lastValidConfig) {
    String initialize = null;
    LeaderRecord leader = null;
    Map<String, Member> members = new HashMap<>();
    Topology topology = null;
    List<HistoryEntry> history = List.of();
    DynamicConfig config = DynamicConfig.DEFAULTS;
    String configError = null;
    String switchoverError = null;
    List<String> errors = new ArrayList<>();
    List<String> ignored = new ArrayList<>();
    boolean configSeen = false;
    Switchover switchover = null;

    for (RawKv kv : scope.kvs()) {
      String k = kv.key();
      if (k.equals(keys.leader())) {
        leader = new LeaderRecord(kv.value().trim(), kv.lease(), kv.modRevision());
        if (leader.holder().isEmpty()) {
          errors.add(k + ": empty leader name");
        }
      } else if (k.equals(keys.initialize())) {
        initialize = kv.value().trim();
        if (!initialize.isEmpty() && !initialize.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
          // Still taken as the cluster's claim (nobody bootstraps beside it), but never as proof that a data
          // directory belongs to another cluster: an agent halts its PostgreSQL only on a real identifier.
          errors.add(k + ": not a system identifier (digits) nor empty (bootstrapping)");
        }
      } else if (k.startsWith(keys.membersPrefix())) {
        String name = k.substring(keys.membersPrefix().length());
        try {
          MemberStatus s = (MemberStatus) parsed(kv, v -> Json.LENIENT.readValue(v, MemberStatus.class));
          if (!name.equals(s.name())) {
            (kv.lease() == 0 ? ignored : errors).add(k + ": names member '" + s.name() + "'");
          } else {
            members.put(name, new Member(s, kv.modRevision(), kv.lease()));
          }
        } catch (JsonProcessingException | RuntimeException e) {
          // A key bound to a lease is a live agent's, maybe one this version cannot read: no guessing past
          // it. One bound to none was written by hand and counts for nothing (ClusterView#liveMembers).
          (kv.lease() == 0 ? ignored : errors).add(k + ": " + describe(e, kv.value()));
        }
      } else if (k.equals(keys.topology())) {
        try {
          topology = (Topology) parsed(kv, v -> Json.LENIENT.readValue(v, Topology.class));
        } catch (JsonProcessingException | RuntimeException e) {
          errors.add(k + ": " + describe(e, kv.value()));
        }
      } else if (k.equals(keys.history())) {
        try {
          @SuppressWarnings("unchecked")
          List<HistoryEntry> h = (List<HistoryEntry>) parsed(kv, v -> entries(Json.LENIENT.readValue(v, HISTORY)));
          history = h;
        } catch (JsonProcessingException | RuntimeException e) {
          errors.add(k + ": " + describe(e, kv.value()));
        }
      } else if (k.equals(keys.switchover())) {
        try {
          // Strictly: a field this version does not know (a mistyped scheduled_at) would otherwise be dropped
          // and the request carried out at once, unlike what was asked.
          switchover = (Switchover) parsed(kv, v -> Json.STRICT.readValue(v, Switchover.class));
        } catch (JsonProcessingException | RuntimeException e) {
          // Not a reason to block failover: nobody acts on a request they cannot read.
          switchoverError = k + ": " + describe(e, kv.value());
        }
      } else if (k.equals(keys.config())) {
        configSeen = true;
        try {
          config = (DynamicConfig) parsed(kv, ConfigLoader::parseDynamic);
        } catch (ConfigException e) {
          configError = k + ": " + e.getMessage();
          config = lastValidConfig;
        } catch (JsonProcessingException | RuntimeException e) {
          // parseDynamic reports every problem as a ConfigException; this is for what it did not foresee.
          configError = k + ": " + describe(e, kv.value());
          config = lastValidConfig;
        }
      }
    }
    if (!configSeen) {
      config = lastValidConfig;
    }
    // Only keys that still exist: members come and go (a new name per container, say) over an agent's life.
    memo.keySet().retainAll(scope.kvs().stream().map(RawKv::key).collect(Collectors.toSet()));
    ClusterView view = new ClusterView(true, null, scope.revision(), initialize, leader, members, topology,
        history, config, errors, switchover);
    return new Parsed(view, configError, switchoverError, List.copyOf(ignored));
  }

  /** The history's entries; a null among them is an error of the key, not of the view built from it. */
  private static List<HistoryEntry> entries(List<HistoryEntry> h) {
    if (h == null) {
      return null;
    }
    for (int i = 0; i < h.size(); i++) {
      if (h.get(i) == null) {
        throw new IllegalArgumentException("entry " + i + " is null, not a history entry");
      }
    }
    return List.copyOf(h);
  }

  private static String describe(Exception e, String value) {
    if (e instanceof JsonProcessingException jpe) {
      return Json.describe(jpe, Json.LENIENT, value);
    }
    return e.getMessage() != null ? e.getMessage() : e.toString();
  }
}
