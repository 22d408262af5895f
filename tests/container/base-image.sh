#!/usr/bin/env bash
# base-image.sh: makes the Debian base images the Dockerfile names
# (debian:bookworm, debian:bookworm-slim) in podman's local storage without
# a registry: debootstrap --variant=minbase from the Debian mirror this
# machine's apt uses, imported under both names. Does nothing when both are
# there already (podman's storage is the cache between runs).
#
#   CONTAINERS_CONF=tests/container/containers.conf tests/container/base-image.sh
#
# Needs root, podman and debootstrap (tests/container/run.sh installs them).
# About a minute and 130 MB the first time.
set -euo pipefail

tags=(docker.io/library/debian:bookworm docker.io/library/debian:bookworm-slim)
missing=0
for t in "${tags[@]}"; do
  podman image exists "$t" || missing=1
done
if [ $missing -eq 0 ]; then
  echo "base image: ${tags[*]} present"
  exit 0
fi

# The mirror of this machine's apt: deb822 sources first, then the one-line form.
mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -r "$f" ] || continue
  mirror=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
  [ -n "$mirror" ] && break
done
if [ -z "$mirror" ]; then
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" && $2 !~ /security/ && $2 !~ /^\[/ { print $2; exit }')
fi
mirror=${mirror:-http://deb.debian.org/debian}

dir=$(mktemp -d "${TMPDIR:-/tmp}/cxone-base.XXXXXX")
trap 'rm -rf "$dir"' EXIT
echo "base image: debootstrap --variant=minbase bookworm from $mirror"
start=$(date +%s)
debootstrap --variant=minbase bookworm "$dir/root" "$mirror" >"$dir/debootstrap.log" 2>&1 || {
  tail -n 20 "$dir/debootstrap.log" >&2
  echo "base-image.sh: debootstrap failed" >&2
  exit 1
}
# What a registry's debian image leaves out: the package cache and lists.
rm -rf "$dir"/root/var/cache/apt/archives/*.deb "$dir"/root/var/lib/apt/lists/* \
  "$dir"/root/var/log/*.log "$dir"/root/tmp/*
id=$(tar -C "$dir/root" -c . | podman import -q --change 'CMD ["bash"]' - "${tags[0]}")
for t in "${tags[@]:1}"; do
  podman tag "$id" "$t"
done
echo "base image: ${tags[*]} imported in $(($(date +%s) - start)) s, $(du -sh "$dir/root" | cut -f1)"
