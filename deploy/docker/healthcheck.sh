#!/bin/bash
# Container health check against the agent's REST API. bash's /dev/tcp does the HTTP, because the
# slim image has no curl or wget and one check every few seconds must not start a JVM.
# Usage: pgwarden-healthcheck [PATH]   (default /liveness; PGWARDEN_API_PORT, default 8008)
path="${1:-/liveness}"
port="${PGWARDEN_API_PORT:-8008}"
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$path" >&3
read -r -t 3 _ status _ <&3 || exit 1
[ "$status" = 200 ]
