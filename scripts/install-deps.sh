#!/usr/bin/env bash
# Installs the Debian packages cxone-worker needs, skipping what is already
# there, and says what it does on stderr.
#
#   scripts/install-deps.sh           what the build and the local demo need
#                                     (deploy/local/run.sh)
#   scripts/install-deps.sh --test    also what the test suite needs
#                                     (tests/run.sh): valgrind, promtool,
#                                     clang-format, python3-yaml, curl
#   scripts/install-deps.sh --bench   also the benchmark's (tests/bench/run.sh)
#   --list                            print the packages, install nothing
set -euo pipefail

# The build and the demo: compiler, cmake, the libraries (cmocka too: the
# build compiles the unit tests).
packages=(
  build-essential cmake pkg-config
  librdkafka-dev libcurl4-openssl-dev libjansson-dev libconfig-dev
  libmicrohttpd-dev libcsv-dev libssl-dev libcmocka-dev
)
# The test suite: curl and python3 (integration tests), python3-yaml
# (test_deploy_files), valgrind (test_valgrind_no_leaks), prometheus (its
# promtool checks /metrics), clang-format (the format check of tests/run.sh),
# bsdutils (script(1): a pseudo-terminal for test_ctl_progress_tty_and_plain).
test_packages=(curl python3 python3-yaml valgrind prometheus clang-format bsdutils)
bench_packages=(wrk gnuplot-nox)

list=0
for arg in "$@"; do
  case "$arg" in
    --test) packages+=("${test_packages[@]}") ;;
    --bench) packages+=("${test_packages[@]}" "${bench_packages[@]}") ;;
    --list) list=1 ;;
    *) echo "install-deps.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
if [ $list -eq 1 ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "packages: all ${#packages[@]} needed are installed" >&2
  exit 0
fi

echo "packages: installing ${#missing[@]} of ${#packages[@]} with apt-get: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "packages: apt-get update..." >&2
$SUDO apt-get update -qq
echo "packages: apt-get install (a minute or more on a fresh machine)..." >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "packages: installed ${missing[*]}" >&2
