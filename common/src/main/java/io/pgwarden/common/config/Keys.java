package io.pgwarden.common.config;

/** The etcd key layout of DESIGN.md, in one place. */
public record Keys(String namespace, String scope) {
  public Keys {
    if (namespace == null || scope == null) {
      throw new IllegalArgumentException("namespace and scope are required");
    }
  }

  /** Ends with '/': everything of this scope, and nothing of a scope whose name merely starts the same. */
  public String prefix() {
    return namespace + "/" + scope + "/";
  }

  public String leader() {
    return prefix() + "leader";
  }

  public String membersPrefix() {
    return prefix() + "members/";
  }

  public String member(String name) {
    return membersPrefix() + name;
  }

  public String topology() {
    return prefix() + "topology";
  }

  public String config() {
    return prefix() + "config";
  }

  public String initialize() {
    return prefix() + "initialize";
  }

  public String history() {
    return prefix() + "history";
  }

  public String switchover() {
    return prefix() + "switchover";
  }
}
