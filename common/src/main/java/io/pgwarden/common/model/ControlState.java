package io.pgwarden.common.model;

/**
 * "Database cluster state" as pg_controldata prints it, plus {@link #BASE_BACKUP}, which
 * pg_controldata cannot tell.
 */
public enum ControlState {
  STARTING_UP("starting up"),
  SHUT_DOWN("shut down"),
  SHUT_DOWN_IN_RECOVERY("shut down in recovery"),
  SHUTTING_DOWN("shutting down"),
  IN_CRASH_RECOVERY("in crash recovery"),
  IN_ARCHIVE_RECOVERY("in archive recovery"),
  IN_PRODUCTION("in production"),
  /**
   * A base backup that has never been started: its pg_control is the source primary's ("in
   * production") and a backup_label says where recovery must begin. It holds nothing the source did
   * not have, so it is a replica in the making, never a diverged old primary.
   */
  BASE_BACKUP("base backup, never started"),
  UNKNOWN("unknown");

  private final String text;

  ControlState(String text) {
    this.text = text;
  }

  public static ControlState parse(String s) {
    if (s != null) {
      for (ControlState c : values()) {
        if (c.text.equals(s.trim())) {
          return c;
        }
      }
    }
    return UNKNOWN;
  }

  /**
   * A data directory last used by a primary: it may hold WAL no other node has, so it must be
   * rewound before it follows anyone.
   */
  public boolean lastRanAsPrimary() {
    return this == IN_PRODUCTION || this == SHUT_DOWN || this == SHUTTING_DOWN || this == IN_CRASH_RECOVERY;
  }

  public String text() {
    return text;
  }
}
