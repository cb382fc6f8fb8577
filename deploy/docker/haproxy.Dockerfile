# HAProxy from Debian's package, for the compose cluster (no registry is reachable here).
#   docker build -f deploy/docker/haproxy.Dockerfile -t pgwarden-haproxy:dev deploy/docker
FROM debian:bookworm-slim
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends haproxy; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log
# Only unprivileged ports are used, so HAProxy needs no root at all.
USER haproxy
EXPOSE 5000 5001 7000
# -W: master-worker, so a reload (SIGUSR2) re-reads the config without dropping the listener;
# -db: stay in the foreground and log to stderr, the container's log.
ENTRYPOINT ["/usr/sbin/haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
