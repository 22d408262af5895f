#!/usr/bin/env bash
# Installs the Debian packages cxone-worker needs to build, test and run,
# skipping what is already there. Used by tests/run.sh and deploy/local/run.sh.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  librdkafka-dev libcurl4-openssl-dev libjansson-dev libconfig-dev
  libmicrohttpd-dev libcsv-dev libssl-dev libcmocka-dev
  curl python3 python3-yaml valgrind prometheus
)
if [ "${1:-}" = "--bench" ]; then
  packages+=(wrk gnuplot-nox)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
