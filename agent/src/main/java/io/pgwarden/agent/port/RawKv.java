package io.pgwarden.agent.port;

import java.util.Objects;

/** One etcd key-value as read, with the metadata the decision needs. */
public record RawKv(String key, String value, long modRevision, long createRevision, long version, long lease) {
  // By hand, not the record's: its equals goes through method handles, and an idle agent compares every key
  // of its scope after each re-read. Every component; RawScopeTest checks that each one counts.
  @Override
  public boolean equals(Object o) {
    return this == o || o instanceof RawKv kv && modRevision == kv.modRevision && createRevision == kv.createRevision
        && version == kv.version && lease == kv.lease && Objects.equals(key, kv.key) && Objects.equals(value, kv.value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(key, value, modRevision, createRevision, version, lease);
  }
}
