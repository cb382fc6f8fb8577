package io.pgwarden.agent.port;

import io.pgwarden.common.decide.Action.StartMode;
import io.pgwarden.common.decide.DemoteMode;
import java.util.Set;

/**
 * Changes the local PostgreSQL. Each call checks the state it would change first (idempotent) and
 * throws {@link PostgresCommandException} naming the command when it fails.
 */
public interface PostgresControl {

  /** initdb (with data checksums) into a fresh directory, then write pgwarden's config files. */
  void initdb();

  /** Write config files for {@code mode} and start; {@code upstream} null means a replica of nobody. */
  void start(StartMode mode, ReplicationSource upstream);

  /** Stop: fast, escalating to immediate after {@code mode.escalateAfter()}; immediate at once. */
  void stop(DemoteMode mode);

  /**
   * pg_ctl promote and wait until pg_is_in_recovery() is false. No-op when already primary.
   *
   * @param holdCommits promote with synchronous_standby_names '*': no commit is acknowledged until a
   *     standby of this node has it (until the lock holder sets its synchronous standbys)
   */
  void promote(boolean holdCommits);

  /**
   * Make those of {@code slots} that are missing, dropping none; on a replica too (a physical slot there
   * reserves WAL from its last restartpoint). For the standbys of a promotion about to happen.
   */
  void makeSlots(Set<String> slots);

  /** Rewrite primary_conninfo/primary_slot_name for {@code upstream} and reload. */
  void follow(ReplicationSource upstream);

  /** pg_rewind the stopped data directory from {@code source}. Blocking. */
  void rewind(ReplicationSource source);

  /**
   * pg_basebackup from {@code source} into a new directory; when complete, the old data directory is
   * moved aside (never deleted) and the new one takes its place. Blocking.
   */
  void baseBackup(ReplicationSource source);

  /**
   * The dynamic PostgreSQL parameters (from {@code /config}) every later rendering of the config
   * files uses, below the node config's own parameters. Called before each decision is carried out.
   */
  void useDynamicParameters(java.util.Map<String, String> parameters);

  /**
   * The hosts pg_hba.conf allows the replication role from (unless the node config gives its own
   * pg_hba); like {@link #useDynamicParameters}, set from each observation before acting.
   */
  void useReplicationHosts(java.util.Set<String> hosts);

  /**
   * Whether a promotion must hold commits (synchronous mode): then a replica's config files already
   * carry synchronous_standby_names '*', which a replica ignores and a promoted server obeys at once.
   * Like {@link #useDynamicParameters}, set from each observation before acting.
   */
  void holdCommitsWhenPromoted(boolean hold);

  /** Re-render pgwarden's config files for the current role and reload PostgreSQL. */
  void reload();

  /**
   * On the primary: make synchronous_standby_names wait for {@code count} of {@code names} (in
   * order), or for any standby when {@code names} is exactly ["*"], or for nobody when empty; then
   * reload. Kept for later restarts.
   */
  void setSynchronousStandbys(java.util.List<String> names, int count);

  /** On the primary: create (or update the password of) the replication role. */
  void ensureReplicationRole();

  /** On the primary: create missing physical slots, drop inactive ones not in {@code slots}. */
  void ensureSlots(Set<String> slots);
}
