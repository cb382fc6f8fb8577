#!/usr/bin/env bash
# Builds the three images of the compose cluster and the Testcontainers tests from this checkout:
#   pgwarden:dev (node), pgwarden-etcd:dev, pgwarden-haproxy:dev
# The node image copies agent/target/pgwarden-agent-*-all.jar, so build the jar first
# (mvn -DskipTests package). debian:bookworm-slim comes from base-image.sh (pulled, or made offline).
# Docker's layer cache makes a second run take seconds; only a changed jar rebuilds the last layers.
set -euo pipefail
cd "$(dirname "$0")/../.."

jar="$(ls agent/target/pgwarden-agent-*-all.jar 2>/dev/null | head -1 || true)"
[ -n "$jar" ] || { echo "build-images: no agent/target/pgwarden-agent-*-all.jar; run mvn -DskipTests package first" >&2; exit 1; }

deploy/docker/base-image.sh
t0=$SECONDS
old="$(docker image inspect -f '{{.Id}}' pgwarden:dev 2>/dev/null || true)"
docker build -q -f deploy/docker/Dockerfile --build-arg JAR="$jar" -t pgwarden:dev . >/dev/null
# Each new jar leaves the previous node image untagged (~460 MB); drop it unless a container uses it.
if [ -n "$old" ] && [ "$old" != "$(docker image inspect -f '{{.Id}}' pgwarden:dev)" ]; then
  docker rmi "$old" >/dev/null 2>&1 || true
fi
docker build -q -f deploy/docker/etcd.Dockerfile -t pgwarden-etcd:dev deploy/docker >/dev/null
docker build -q -f deploy/docker/haproxy.Dockerfile -t pgwarden-haproxy:dev deploy/docker >/dev/null
echo "build-images: built in $((SECONDS - t0)) s:" >&2
docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep -E '^(pgwarden|debian:bookworm-slim)' | sed 's/^/  /' >&2
