package io.pgwarden.common.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Objects;

/**
 * What one agent publishes about itself under {@code members/<name>}, attached to its lease. Also
 * the body of every REST response.
 *
 * @param state a short word: running, stopped, starting, creating replica, rewinding, bootstrapping
 * @param lsn the primary's current write position, or a replica's last received (flushed) position
 * @param replayedLsn a replica's replay position
 * @param timeline the timeline {@code lsn} is on
 * @param streaming a replica whose WAL receiver streams from {@code upstream}
 * @param pendingRestart true when PostgreSQL has settings that only a restart applies; absent (null)
 *     otherwise, so statuses without it read and compare as before
 * @param parameterErrors PostgreSQL parameters PostgreSQL rejected, name to value and reason; absent
 *     (null) when none
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record MemberStatus(
    String name,
    Role role,
    String state,
    Long timeline,
    Lsn lsn,
    Lsn replayedLsn,
    Boolean streaming,
    String upstream,
    String apiUrl,
    String connUrl,
    String systemId,
    Tags tags,
    String version,
    Long term,
    Boolean pendingRestart,
    java.util.Map<String, String> parameterErrors) {

  /** Without parameter errors. */
  public MemberStatus(String name, Role role, String state, Long timeline, Lsn lsn, Lsn replayedLsn,
      Boolean streaming, String upstream, String apiUrl, String connUrl, String systemId, Tags tags,
      String version, Long term, Boolean pendingRestart) {
    this(name, role, state, timeline, lsn, replayedLsn, streaming, upstream, apiUrl, connUrl, systemId, tags,
        version, term, pendingRestart, null);
  }

  /** Without a pending restart. */
  public MemberStatus(String name, Role role, String state, Long timeline, Lsn lsn, Lsn replayedLsn,
      Boolean streaming, String upstream, String apiUrl, String connUrl, String systemId, Tags tags,
      String version, Long term) {
    this(name, role, state, timeline, lsn, replayedLsn, streaming, upstream, apiUrl, connUrl, systemId, tags,
        version, term, null);
  }

  public MemberStatus {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("member status: name is missing");
    }
    role = role == null ? Role.UNKNOWN : role;
    state = state == null ? "unknown" : state;
    tags = tags == null ? Tags.NONE : tags;
    streaming = streaming != null && streaming;
    pendingRestart = Boolean.TRUE.equals(pendingRestart) ? Boolean.TRUE : null;
    parameterErrors = parameterErrors == null || parameterErrors.isEmpty() ? null
        : java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(parameterErrors));
  }

  // equals and hashCode by hand: a record's own go through method handles, which an idle agent runs on every
  // tick (its status against the last one it published) without the JIT making them cheap. Every component,
  // in declaration order; MemberStatusTest checks that each one counts.
  @Override
  public boolean equals(Object o) {
    return this == o || o instanceof MemberStatus m
        && Objects.equals(name, m.name) && role == m.role && Objects.equals(state, m.state)
        && Objects.equals(timeline, m.timeline) && Objects.equals(lsn, m.lsn)
        && Objects.equals(replayedLsn, m.replayedLsn) && Objects.equals(streaming, m.streaming)
        && Objects.equals(upstream, m.upstream) && Objects.equals(apiUrl, m.apiUrl)
        && Objects.equals(connUrl, m.connUrl) && Objects.equals(systemId, m.systemId)
        && Objects.equals(tags, m.tags) && Objects.equals(version, m.version) && Objects.equals(term, m.term)
        && Objects.equals(pendingRestart, m.pendingRestart) && Objects.equals(parameterErrors, m.parameterErrors);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, role, state, timeline, lsn, replayedLsn, streaming, upstream, apiUrl, connUrl,
        systemId, tags, version, term, pendingRestart, parameterErrors);
  }

  /** PostgreSQL waits for a restart to apply some setting (named so Jackson sees no second property). */
  @JsonIgnore
  public boolean restartPending() {
    return Boolean.TRUE.equals(pendingRestart);
  }

  @JsonIgnore
  public boolean isRunning() {
    return "running".equals(state);
  }

  /** Position with timeline, or null when either part is unknown. */
  @JsonIgnore
  public WalPosition position() {
    return timeline == null || lsn == null || timeline < 1 ? null : new WalPosition(timeline, lsn);
  }
}
