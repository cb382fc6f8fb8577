package io.pgwarden.common.model;

/** A long action running off the loop thread; while it runs the node is never a candidate. */
public record InFlight(Kind kind, String source) {
  public enum Kind {
    BASE_BACKUP("creating replica"),
    REWIND("rewinding"),
    BOOTSTRAP("bootstrapping");

    private final String state;

    Kind(String state) {
      this.state = state;
    }

    /** The member state published while it runs. */
    public String state() {
      return state;
    }
  }
}
