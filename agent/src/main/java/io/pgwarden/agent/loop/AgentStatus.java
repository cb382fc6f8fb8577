package io.pgwarden.agent.loop;

import io.pgwarden.common.decide.Decision;
import io.pgwarden.common.model.MemberStatus;
import io.pgwarden.common.model.Observation;

/**
 * What the REST API and metrics read: the last observation, its decision and the status we
 * published. Replaced atomically once per tick; readers never query etcd or PostgreSQL themselves.
 *
 * @param atNanos monotonic time of the observation
 * @param loopMillis how long the tick took
 */
public record AgentStatus(
    MemberStatus member, Observation observation, Decision decision, long atNanos, long loopMillis, long ticks) {}
