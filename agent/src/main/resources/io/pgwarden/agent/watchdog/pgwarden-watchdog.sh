#!/usr/bin/env bash
# pgwarden watchdog: stops the local PostgreSQL (immediate) when the agent that armed it is not
# heard from before its lease deadline, or dies while armed. It lives outside the agent's JVM so
# that a SIGKILL, an OOM kill or a freeze (SIGSTOP, GC pause) of the agent cannot take it along.
#
# Usage: pgwarden-watchdog.sh DATA_DIR BIN_DIR
# stdin, one command a line, written only by the agent:
#   arm DEADLINE   DEADLINE: /proc/uptime in centiseconds. Absolute, not a duration, so that an
#                  agent frozen between computing and writing a feed cannot stretch the deadline.
#   disarm         not primary (or a clean shutdown follows): never stop PostgreSQL.
# EOF (the agent is gone): stop PostgreSQL if armed, then exit.
# Everything it says goes to stdout, which the agent points at a file (never at a pipe: a dead
# reader would turn our next log line into a SIGPIPE).
set -u
DATA=${1:?usage: pgwarden-watchdog.sh DATA_DIR BIN_DIR}
BIN=${2:?usage: pgwarden-watchdog.sh DATA_DIR BIN_DIR}

# Terminal and hang-up signals belong to the agent's session, not to us. SIGTERM keeps its
# default: whoever sends it means "go away", and the agent notices we are gone.
trap '' HUP INT PIPE

log() { printf '%(%Y-%m-%d %H:%M:%S)T pgwarden-watchdog[%d] %s\n' -1 "$$" "$*"; }

# /proc/uptime counts from boot and never jumps with wall-clock changes. Read with a builtin: no
# fork, so it works even when the host is out of memory or processes.
now_cs() {
  local up
  read -r up _ < /proc/uptime || return 1
  up=${up/./}
  NOW=$((10#$up))
}

# The postmaster of DATA, or failure. Its pid file can outlive it, and its pid can be reused: the
# process must also have DATA as its working directory (the postmaster chdirs there).
postmaster_pid() {
  local pid
  [[ -r $DATA/postmaster.pid ]] || return 1
  read -r pid < "$DATA/postmaster.pid" || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ /proc/$pid/cwd -ef $DATA ]] || return 1
  PID=$pid
}

fire() {
  log "FIRING ($1): stopping PostgreSQL in $DATA, mode immediate"
  if ! postmaster_pid; then
    log "no postmaster of $DATA is running; nothing to stop"
    return
  fi
  # SIGQUIT is what pg_ctl stop -m immediate sends: the postmaster makes every backend quit at
  # once, so no further commit is acknowledged. Sent first and directly: no exec on the way.
  kill -QUIT "$PID" 2>/dev/null
  log "sent SIGQUIT to postmaster $PID"
  # Let pg_ctl confirm the stop (it waits for the pid file to go); then make sure by force.
  "$BIN/pg_ctl" stop -D "$DATA" -m immediate -w -t 3 2>&1 | while IFS= read -r l; do log "pg_ctl: $l"; done
  if kill -0 "$PID" 2>/dev/null; then
    log "postmaster $PID still alive: SIGKILL to it and its process group"
    kill -KILL -- "-$PID" 2>/dev/null
    kill -KILL "$PID" 2>/dev/null
  fi
  log "PostgreSQL in $DATA stopped"
}

now_cs || { log "cannot read /proc/uptime; refusing to run"; exit 2; }
armed=0
deadline=0
log "started for $DATA, disarmed"

handle() {
  case $1 in
    arm)
      if [[ ! $2 =~ ^[0-9]+$ ]]; then
        log "ignoring malformed arm command"
        return
      fi
      ((armed)) || log "armed"
      armed=1
      deadline=$((10#$2))
      ;;
    disarm)
      ((armed)) && log "disarmed"
      armed=0
      ;;
    *) log "ignoring unknown command" ;;
  esac
}

while :; do
  if ((armed)); then
    now_cs
    left=$((deadline - NOW))
    if ((left <= 0)); then
      fire "not fed before the lease deadline"
      armed=0
      continue
    fi
    printf -v timeout '%d.%02d' $((left / 100)) $((left % 100))
    cmd= arg=
    if read -r -t "$timeout" cmd arg; then
      handle "$cmd" "${arg:-}"
    elif (($? > 128)); then
      continue # timed out: the top of the loop checks the clock again
    else
      fire "the agent closed my stdin while I was armed: it died"
      exit 1
    fi
  else
    cmd= arg=
    if read -r cmd arg; then
      handle "$cmd" "${arg:-}"
    else
      log "the agent closed my stdin while I was disarmed; exiting and leaving PostgreSQL as it is"
      exit 0
    fi
  fi
done
