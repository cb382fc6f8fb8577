package io.pgwarden.agent.port;

/** One etcd key-value as read, with the metadata the decision needs. */
public record RawKv(String key, String value, long modRevision, long createRevision, long version, long lease) {}
