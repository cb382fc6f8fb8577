package io.pgwarden.common.model;

/**
 * A member's published status with the etcd revision it was written at and the etcd lease its key
 * is bound to.
 *
 * @param lease the lease id of the member key; 0 when the key is bound to no lease. Agents always
 *     bind their key to their lease, so it vanishes with them; a key without one was written by hand
 *     or by a foreign process and says nothing about a live agent.
 */
public record Member(MemberStatus status, long modRevision, long lease) {
  public String name() {
    return status.name();
  }

  /** Whether the key is bound to a lease, as every agent's own key is. */
  public boolean leaseBound() {
    return lease != 0;
  }
}
