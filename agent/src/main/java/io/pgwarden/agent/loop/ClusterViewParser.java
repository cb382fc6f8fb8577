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

/**
 * Turns one etcd range read into a {@link ClusterView}. Pure. A value that does not parse becomes an
 * error line naming the key, never a guess; a bad {@code /config} is reported separately because
 * agents keep running on the last valid one.
 */
public final class ClusterViewParser {
  private static final TypeReference<List<HistoryEntry>> HISTORY = new TypeReference<>() {};

  private final Keys keys;

  public ClusterViewParser(Keys keys) {
    this.keys = keys;
  }

  /** The view, and the config error (null when {@code /config} was valid or absent). */
  public record Parsed(ClusterView view, String configError) {}

  public Parsed parse(RawScope scope, DynamicConfig lastValidConfig) {
    String initialize = null;
    LeaderRecord leader = null;
    Map<String, Member> members = new HashMap<>();
    Topology topology = null;
    List<HistoryEntry> history = List.of();
    DynamicConfig config = DynamicConfig.DEFAULTS;
    String configError = null;
    List<String> errors = new ArrayList<>();
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
      } else if (k.startsWith(keys.membersPrefix())) {
        String name = k.substring(keys.membersPrefix().length());
        try {
          MemberStatus s = Json.LENIENT.readValue(kv.value(), MemberStatus.class);
          if (!name.equals(s.name())) {
            errors.add(k + ": names member '" + s.name() + "'");
          } else {
            members.put(name, new Member(s, kv.modRevision()));
          }
        } catch (JsonProcessingException | IllegalArgumentException e) {
          errors.add(k + ": " + describe(e));
        }
      } else if (k.equals(keys.topology())) {
        try {
          topology = Json.LENIENT.readValue(kv.value(), Topology.class);
        } catch (JsonProcessingException | IllegalArgumentException e) {
          errors.add(k + ": " + describe(e));
        }
      } else if (k.equals(keys.history())) {
        try {
          List<HistoryEntry> h = Json.LENIENT.readValue(kv.value(), HISTORY);
          history = h == null ? List.of() : h;
        } catch (JsonProcessingException | IllegalArgumentException e) {
          errors.add(k + ": " + describe(e));
        }
      } else if (k.equals(keys.switchover())) {
        try {
          switchover = Json.LENIENT.readValue(kv.value(), Switchover.class);
        } catch (JsonProcessingException | IllegalArgumentException e) {
          // Not a reason to block failover: the lock holder clears what it cannot use.
          configError = configError == null ? k + ": " + describe(e) + " (ignored)" : configError;
        }
      } else if (k.equals(keys.config())) {
        configSeen = true;
        try {
          config = ConfigLoader.parseDynamic(kv.value());
        } catch (ConfigException e) {
          configError = k + ": " + e.getMessage();
          config = lastValidConfig;
        }
      }
    }
    if (!configSeen) {
      config = lastValidConfig;
    }
    ClusterView view = new ClusterView(true, null, scope.revision(), initialize, leader, members, topology,
        history, config, errors, switchover);
    return new Parsed(view, configError);
  }

  private static String describe(Exception e) {
    if (e instanceof JsonProcessingException jpe) {
      return Json.describe(jpe);
    }
    return e.getMessage();
  }
}
