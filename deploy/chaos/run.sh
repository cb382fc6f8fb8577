#!/usr/bin/env bash
# The seed's load test against the compose cluster, with the counting the seed never did.
#
#   deploy/chaos/run.sh            (from anywhere; needs docker, docker-compose or `docker compose`,
#                                   java 17, the agent jar and the images of deploy/docker/build-images.sh)
#
# 1. a fresh compose cluster (project "pgwchaos", volumes dropped before and after);
#    prints the time from `up -d` to the first committed INSERT through HAProxy :5000
# 2. 3000 INSERTs with unique ids from 30 workers through :5000 (ChaosLoad.java: random 0-2 s delay,
#    retry until acknowledged; every attempt acknowledged / failed / indeterminate)
# 3. after 1/3 of them: `docker kill` the primary (a power-off)
# 4. after 2/3, once the new primary has a synchronous standby: kill the new primary, start the old one
# 5. the rest lands; then every node is started again and the cluster must converge:
#    one primary, two streaming replicas, the same rows on all three
# 6. prints acknowledged, lost, duplicates, failover times, converged; exits non-zero on any loss
#    (synchronous_mode is on in the compose cluster) or if the cluster does not converge.
# Env: CHAOS_TOTAL (3000), CHAOS_WORKERS (30), CHAOS_OUT (output folder), CHAOS_KEEP=1 keeps the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy="$PWD"
repo="$(dirname "$deploy")"

total="${CHAOS_TOTAL:-3000}"
workers="${CHAOS_WORKERS:-30}"
out="${CHAOS_OUT:-$(mktemp -d /tmp/pgwarden-chaos.XXXXXX)}"
mkdir -p "$out"
project=pgwchaos
export PGWARDEN_SUPERUSER_PASSWORD=pgwarden-demo PGWARDEN_REPLICATION_PASSWORD=pgwarden-demo-repl
export PGPASSWORD="$PGWARDEN_SUPERUSER_PASSWORD" PGUSER=postgres
if docker-compose version >/dev/null 2>&1; then compose=(docker-compose); else compose=(docker compose); fi
dc() { "${compose[@]}" -p "$project" -f "$deploy/docker-compose.yml" "$@"; }
jar="$(ls "$repo"/agent/target/pgwarden-agent-*-all.jar | head -1)"
now_ms() { date +%s%3N; }
log() { echo "chaos $(date +%T): $*"; }
# psql through HAProxy's primary port; -w: never prompt.
psql5000() { psql -w "host=127.0.0.1 port=5000 dbname=postgres connect_timeout=3" -XAtq "$@"; }
node_sql() { docker exec -e PGPASSWORD "$(dc ps -q "$1")" psql -w -h 127.0.0.1 -U postgres -d postgres -XAtq -c "$2"; }
leader() { dc exec -T etcd1 etcdctl --endpoints=etcd1:2379 get /pgwarden/demo/leader --print-value-only 2>/dev/null | tr -d '\r'; }
# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.5 s, bounded in time; fails the run on timeout.
wait_for() {
  local limit=$1 what=$2 end=$((SECONDS + $1)); shift 2
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $end ]; then log "TIMEOUT after ${limit}s waiting for: $what"; return 1; fi
    sleep 0.5
  done
}
progress() { cat "$out/progress" 2>/dev/null || echo 0; }
progress_at_least() { [ "$(progress)" -ge "$1" ]; }

cleanup() {
  local rc=$?
  if [ -n "${load_pid:-}" ] && kill -0 "$load_pid" 2>/dev/null; then kill "$load_pid" || true; fi
  dc logs --no-color >"$out/compose.log" 2>&1 || true
  if [ "${CHAOS_KEEP:-0}" != 1 ]; then dc down -v --remove-orphans >/dev/null 2>&1 || true; fi
  log "logs and results in $out"
  exit $rc
}
trap cleanup EXIT

log "compose: ${compose[*]}, output in $out"
dc down -v --remove-orphans >/dev/null 2>&1 || true
t_up=$(now_ms)
dc up -d 2>&1 | sed 's/^/  /'
wait_for 180 "a committed INSERT through :5000" \
  psql5000 -c "CREATE TABLE IF NOT EXISTS chaos_probe (at timestamptz); INSERT INTO chaos_probe VALUES (now())"
t_writable=$(now_ms)
up_to_writable=$(awk -v a="$t_up" -v b="$t_writable" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
log "docker-compose up -d -> writable primary through HAProxy: ${up_to_writable} s (leader: $(leader))"

two_streaming() { [ "$(psql5000 -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 2 ]; }
has_sync() { [ "$(psql5000 -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND sync_state IN ('sync', 'quorum')")" -ge 1 ]; }
wait_for 180 "two streaming replicas, one synchronous" bash -c "$(declare -f psql5000 two_streaming has_sync); two_streaming && has_sync"
log "cluster healthy: leader $(leader), two streaming replicas"

: >"$out/load.log"   # exists before tail follows it
java -cp "$jar" "$deploy/chaos/ChaosLoad.java" load 127.0.0.1 5000 "$total" "$workers" "$out" 900 >"$out/load.log" 2>&1 &
load_pid=$!
tail -n +1 -f "$out/load.log" --pid "$load_pid" | sed -u 's/^/  /' &

wait_for 300 "$((total / 3)) acknowledged inserts" progress_at_least $((total / 3))
first="$(leader)"
t_kill1=$(now_ms)
dc kill "$first" >/dev/null 2>&1
log "killed the primary $first at $(progress) acknowledged"
new_leader() { local l; l="$(leader)"; [ -n "$l" ] && [ "$l" != "$1" ]; }
wait_for 120 "a new leader after $first" new_leader "$first"
second="$(leader)"
log "new leader: $second"

wait_for 300 "$((2 * total / 3)) acknowledged inserts" progress_at_least $((2 * total / 3))
# A kill is a fair test of synchronous mode only once the primary has a synchronous standby again.
wait_for 120 "a synchronous standby of $second" bash -c "$(declare -f psql5000 has_sync); has_sync"
t_kill2=$(now_ms)
dc kill "$second" >/dev/null 2>&1
log "killed the new primary $second at $(progress) acknowledged; starting $first"
dc start "$first" >/dev/null 2>&1
wait_for 120 "a leader other than $second" new_leader "$second"
third="$(leader)"
log "new leader: $third"

load_rc=0
wait "$load_pid" || load_rc=$?
load_pid=
log "load finished (exit $load_rc); starting every node"
dc start >/dev/null 2>&1

# Converged: one primary, two streaming replicas, every node holding the same rows as the primary.
converged() {
  local n primaries=0 counts=()
  for n in pg1 pg2 pg3; do
    local r; r="$(node_sql "$n" "SELECT pg_is_in_recovery(), (SELECT count(*) FROM guestbook)")" || return 1
    [ "${r%%|*}" = f ] && primaries=$((primaries + 1))
    counts+=("${r##*|}")
  done
  [ "$primaries" = 1 ] && two_streaming && [ "${counts[0]}" = "${counts[1]}" ] && [ "${counts[1]}" = "${counts[2]}" ]
}
t_start_all=$(now_ms)
converged_rc=0
wait_for 180 "convergence" converged || converged_rc=$?
t_converged=$(now_ms)

# Failover time, as the client sees it: from a kill to the first INSERT acknowledged by another server
# than the one that acknowledged the last insert before the kill.
first_ack_after() {
  sort -t $'\t' -k2,2n "$out/acks.tsv" | awk -F '\t' -v t="$1" '$2 == 0 { next } $2 <= t { old = $5; next } $5 != old { print $2; exit }'
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == "" || b == 0) print "never"; else printf "%.1f s", (b - a) / 1000 }'; }
{
  echo "== compose chaos result ($(date -u +%FT%TZ), ${compose[*]}, $total inserts, $workers workers) =="
  echo "up -d -> writable primary: ${up_to_writable} s"
  java -cp "$jar" "$deploy/chaos/ChaosLoad.java" check 127.0.0.1 5000 "$out" || true
  echo "failover 1: killed $first, new primary $second; kill -> first acknowledged insert: $(secs "$t_kill1" "$(first_ack_after "$t_kill1")")"
  echo "failover 2: killed $second, started $first, new primary $third; kill -> first acknowledged insert: $(secs "$t_kill2" "$(first_ack_after "$t_kill2")")"
  if [ "$converged_rc" = 0 ]; then
    echo "converged: yes, $(secs "$t_start_all" "$t_converged") after starting every node; leader $(leader);" \
      "rows per node: $(for n in pg1 pg2 pg3; do printf '%s=%s ' "$n" "$(node_sql "$n" 'SELECT count(*) FROM guestbook')"; done)"
  else
    echo "converged: NO"
  fi
  tail -1 "$out/load.log"
} | tee "$out/result.txt"
# The verdict: nothing acknowledged was lost, the cluster converged, every insert was acknowledged.
grep -q '^lost: 0$' "$out/result.txt" && [ "$converged_rc" = 0 ] && [ "$load_rc" = 0 ]
