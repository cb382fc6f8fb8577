/**
 * Operator actions shared by the CLI and the REST API: validating and writing a switchover, editing
 * the dynamic config with compare-and-swap. Depends on {@code port} and {@code common}, never on
 * {@code loop} or {@code postgres}.
 */
package io.pgwarden.agent.ops;
