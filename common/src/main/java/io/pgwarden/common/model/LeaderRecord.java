package io.pgwarden.common.model;

/** The {@code /leader} key: who holds it, under which lease, since which revision. */
public record LeaderRecord(String holder, long leaseId, long modRevision) {}
