#!/bin/bash
# The node container's main process under tini: clears what a killed container leaves behind, then
# becomes the agent.
#
# PostgreSQL puts its Unix socket and the socket's lock file beside the data directory, on the volume,
# so they survive `docker kill` + `docker start`. The lock file names the dead postmaster's PID, and in
# the restarted container's fresh PID namespace that number is often taken by a live process (one of
# the agent's JVM threads): PostgreSQL then refuses to start ("lock file ... already exists"), forever.
# At container start no PostgreSQL of this container can be running, and one in another container
# would be invisible to the PID check anyway, so these files are stale by construction.
set -eu
for lock in /var/lib/pgwarden/.s.PGSQL.*.lock; do
  [ -e "$lock" ] || continue
  echo "pgwarden-entrypoint: removing stale $lock (from before this container started)" >&2
  rm -f -- "$lock" "${lock%.lock}"
done
exec /usr/bin/pgwarden "$@"
