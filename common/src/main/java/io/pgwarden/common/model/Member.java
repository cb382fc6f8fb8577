package io.pgwarden.common.model;

/** A member's published status with the etcd revision it was written at. */
public record Member(MemberStatus status, long modRevision) {
  public String name() {
    return status.name();
  }
}
