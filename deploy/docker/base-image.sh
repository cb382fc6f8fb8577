#!/usr/bin/env bash
# Provides the local tag debian:bookworm-slim that deploy/docker/Dockerfile builds FROM.
#
# CI machines here reach no container registry, so when the tag is neither present nor pullable we
# build an equivalent image from Debian's own packages: debootstrap --variant=minbase bookworm, trimmed
# the way the official slim image is trimmed, then `docker import`. The mirror is read from this
# machine's apt configuration at run time, because that is the one mirror known to be reachable from
# here; a hard-coded host would break on every other network.
#
# Usage: deploy/docker/base-image.sh [TAG]        (default TAG: debian:bookworm-slim)
# Environment: DEBIAN_MIRROR overrides the mirror; PGWARDEN_BASE_PULL=0 skips the pull attempt;
#              PGWARDEN_BASE_REBUILD=1 rebuilds even if the tag exists.
set -euo pipefail

tag="${1:-debian:bookworm-slim}"
suite=bookworm

log() { echo "base-image: $*" >&2; }

if [ "${PGWARDEN_BASE_REBUILD:-0}" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
  log "$tag is already present"
  exit 0
fi

# A registry that is down often makes `docker pull` hang rather than fail; do not let CI wait on it.
if [ "${PGWARDEN_BASE_PULL:-1}" = 1 ] && timeout 30 docker pull "$tag" >/dev/null 2>&1; then
  log "pulled $tag"
  exit 0
fi

# Prints "URI SUITE..." for every enabled Debian "deb" source, from both one-line and deb822 files.
apt_sources() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    # One-line format: deb [options] URI SUITE COMPONENT...
    awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } print $i, $(i+1) }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # deb822: stanzas separated by blank lines; Enabled: no switches a stanza off.
    awk '
      function flush() { if (types ~ /(^| )deb( |$)/ && enabled != "no") { n = split(uris, u, " "); for (k = 1; k <= n; k++) print u[k], suites }
                         types = ""; uris = ""; suites = ""; enabled = "" }
      /^[[:space:]]*#/ { next }
      /^[[:space:]]*$/ { flush(); next }
      tolower($1) == "types:"   { $1 = ""; types = $0 }
      tolower($1) == "uris:"    { $1 = ""; uris = $0 }
      tolower($1) == "suites:"  { $1 = ""; suites = $0 }
      tolower($1) == "enabled:" { enabled = tolower($2) }
      END { flush() }' "$f"
  done
}

sources="$(apt_sources | sed 's/^ *//; s/  */ /g')"
# The main archive is the source that carries the bare suite; security updates live elsewhere.
mirror="${DEBIAN_MIRROR:-$(echo "$sources" | awk -v s="$suite" '{ for (i = 2; i <= NF; i++) if ($i == s) { print $1; exit } }')}"
# Fall back to any source carrying some Debian suite: the machine may run another release than ours.
[ -n "$mirror" ] || mirror="$(echo "$sources" | awk '$1 !~ /security/ && $2 ~ /^(bookworm|trixie|bullseye|stable|testing|sid|unstable)/ { print $1; exit }')"
security="$(echo "$sources" | awk '$1 ~ /security/ { print $1; exit }')"
if [ -z "$mirror" ]; then
  log "cannot find a Debian mirror in /etc/apt/sources.list or /etc/apt/sources.list.d; set DEBIAN_MIRROR"
  exit 1
fi
mirror="${mirror%/}"

command -v debootstrap >/dev/null || { log "debootstrap is missing (apt-get install debootstrap)"; exit 1; }
[ "$(id -u)" = 0 ] || { log "debootstrap needs root"; exit 1; }

work="$(mktemp -d /var/tmp/pgwarden-rootfs.XXXXXX)"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"

log "debootstrap --variant=minbase $suite from $mirror"
debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  exit 1
}

# Same trimming rules as the official slim image, so later apt-get installs in the Dockerfile stay small.
cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CFG
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$root/etc/apt/apt.conf.d/docker-no-recommends"

rm -f "$root/etc/apt/sources.list"
{
  printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$mirror" "$suite" "$suite"
  if [ -n "$security" ]; then
    printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "${security%/}" "$suite"
  fi
} >"$root/etc/apt/sources.list.d/debian.sources"

# Files excluded above were already unpacked by debootstrap; remove them now, plus caches and logs.
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$root"/usr/share/{man,groff,info,lintian,linda,locale}/* \
  "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
  "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* "$root"/debootstrap
: >"$root/etc/machine-id"
# The host's resolver and name do not belong in an image; docker provides both per container.
rm -f "$root/etc/resolv.conf" "$root/etc/hostname"

log "importing as $tag"
tar -C "$root" --numeric-owner -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["bash"]' \
  --message "debootstrap --variant=minbase $suite from $mirror (pgwarden base-image.sh)" \
  - "$tag" >/dev/null
docker image ls "$tag" >&2
