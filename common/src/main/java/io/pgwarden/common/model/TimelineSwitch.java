package io.pgwarden.common.model;

/** One line of a timeline history file: {@code parent} ended, and its child began, at {@code switchLsn}. */
public record TimelineSwitch(long parent, Lsn switchLsn) {}
