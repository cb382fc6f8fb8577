# etcd from Debian's etcd-server package, for the compose cluster: no registry is reachable here, and
# Debian's build is the one the systemd guide installs, so both setups run the same etcd.
#   docker build -f deploy/docker/etcd.Dockerfile -t pgwarden-etcd:dev deploy/docker
FROM debian:bookworm-slim
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends etcd-server etcd-client; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log; \
    install -d -o etcd -g etcd -m 0700 /var/lib/etcd/data
# etcdctl in `docker exec` should talk v3 without every user remembering the variable.
ENV ETCDCTL_API=3 ETCD_DATA_DIR=/var/lib/etcd/data
VOLUME /var/lib/etcd/data
USER etcd
EXPOSE 2379 2380
HEALTHCHECK --interval=10s --timeout=5s --retries=3 CMD ["etcdctl", "--endpoints=127.0.0.1:2379", "endpoint", "health"]
# etcd is configured entirely by ETCD_* variables (see deploy/docker-compose.yml).
ENTRYPOINT ["/usr/bin/etcd"]
