#!/usr/bin/env bash
# The second command: installs what is missing (the build's packages and the
# tests' own: scripts/install-deps.sh --test), builds, runs the whole ctest
# suite (unit + integration), then the suite again built with ASan+UBSan:
# all unit tests and the integration tests labelled asan (a line
# "# ctest-label: asan" in the test: those that drive the most code per
# second, i.e. the hostile-input, DLQ, webhook, admin, cxonectl and fault
# paths; the rest mostly wait on time or repeat those paths, and the
# valgrind one cannot run a sanitizer build). An integration test fails when
# any process it started logged a sanitizer report. Then, when clang-14 is
# there, every fuzz harness for about 15 s, two at a time (tests/fuzz/run.sh).
#   tests/run.sh            everything
#   tests/run.sh -L unit    only the unit tests (any ctest arguments pass through)
#   tests/run.sh --long       the fault suite's long forms (e.g. 60 s of kills,
#                             30,000 updates) instead of the short ones
#   tests/run.sh --container  then also the container image and compose stack
#                             with podman (tests/container/run.sh; minutes, root)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

container=0
while [ $# -gt 0 ]; do
  case "$1" in
    --container) container=1; shift ;;
    --long) export CXW_LONG=1; shift ;;
    *) break ;;
  esac
done

scripts/install-deps.sh --test

jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (RelWithDebInfo, -Wall -Wextra -Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"

echo "== ctest"
(cd build && ctest --output-on-failure --no-tests=error "$@")

echo "== the suite under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCXW_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 \
   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure --no-tests=error -L 'unit|asan' "$@")

if command -v clang-14 >/dev/null 2>&1; then
  echo "== fuzzing (tests/fuzz/run.sh: every harness about 15 s, two at a time)"
  tests/fuzz/run.sh --jobs "$jobs"
fi

if command -v clang-format >/dev/null 2>&1; then
  echo "== clang-format"
  mapfile -t files < <(git -C "$root" ls-files '*.c' '*.h' 2>/dev/null || true)
  if [ ${#files[@]} -gt 0 ]; then
    clang-format --dry-run --Werror "${files[@]}"
  fi
fi
if [ $container -eq 1 ]; then
  echo "== the container image and compose stack (tests/container/run.sh)"
  tests/container/run.sh
fi
echo "== all tests passed"
