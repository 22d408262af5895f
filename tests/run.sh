#!/usr/bin/env bash
# The second command: installs what is missing, builds, runs the whole ctest
# suite (unit + integration), then the suite again built with ASan+UBSan
# (all unit tests; the integration tests but the valgrind one, which cannot
# run a sanitizer build, and the 10k load test). An integration test fails
# when any process it started logged a sanitizer report. Then, when clang-14
# is there, every fuzz harness for about 15 s (tests/fuzz/run.sh).
#   tests/run.sh            everything
#   tests/run.sh -L unit    only the unit tests (any ctest arguments pass through)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/install-deps.sh

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
   ctest --output-on-failure --no-tests=error -E 'valgrind|10k' "$@")

if command -v clang-14 >/dev/null 2>&1; then
  echo "== fuzzing (tests/fuzz/run.sh: every harness about 15 s)"
  tests/fuzz/run.sh
fi

if command -v clang-format >/dev/null 2>&1; then
  echo "== clang-format"
  mapfile -t files < <(git -C "$root" ls-files '*.c' '*.h' 2>/dev/null || true)
  if [ ${#files[@]} -gt 0 ]; then
    clang-format --dry-run --Werror "${files[@]}"
  fi
fi
echo "== all tests passed"
