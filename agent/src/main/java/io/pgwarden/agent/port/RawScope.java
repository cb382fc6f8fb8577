package io.pgwarden.agent.port;

import java.util.List;

/** Every key under a scope prefix, read in one range request, at one revision. */
public record RawScope(long revision, List<RawKv> kvs) {
  public RawScope {
    kvs = List.copyOf(kvs);
  }

  // By hand, not the record's (method handles): the parser compares each scope with the last one.
  @Override
  public boolean equals(Object o) {
    return this == o || o instanceof RawScope s && revision == s.revision && kvs.equals(s.kvs);
  }

  @Override
  public int hashCode() {
    return 31 * Long.hashCode(revision) + kvs.hashCode();
  }
}
