package io.pgwarden.agent.port;

import java.util.List;

/** Every key under a scope prefix, read in one range request, at one revision. */
public record RawScope(long revision, List<RawKv> kvs) {
  public RawScope {
    kvs = List.copyOf(kvs);
  }
}
