#!/usr/bin/env bash
# deploy/local/run.sh, the first command, on the tests' build directory: it
# says what it does from the first second (packages, build, each process)
# with no long silence before the stack is up, completes the demo (exit 0)
# printing the samples' outcomes as the README shows them,
# and scripts/install-deps.sh installs for it only what the build and the
# demo need: the test-only packages come with --test, which tests/run.sh
# passes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

base=$("$CXW_SRC/scripts/install-deps.sh" --list)
with_tests=$("$CXW_SRC/scripts/install-deps.sh" --list --test)
for p in valgrind prometheus clang-format python3-yaml wrk; do
  if grep -qx "$p" <<<"$base"; then fail "install-deps.sh installs $p for the build and the demo"; fi
done
for p in valgrind prometheus clang-format python3-yaml curl python3; do
  grep -qx "$p" <<<"$with_tests" || fail "install-deps.sh --test does not install $p"
done
for p in cmake librdkafka-dev libcmocka-dev; do
  grep -qx "$p" <<<"$base" || fail "install-deps.sh does not install $p"
done
grep -q '^scripts/install-deps.sh --test$' "$CXW_SRC/tests/run.sh" ||
  fail "tests/run.sh does not install the test packages (install-deps.sh --test)"

# Every line of the demo's output with the seconds since the start.
start=$(date +%s.%N)
rc=0
BUILD_DIR=$(cd "$CXW_BIN/.." && pwd) TMPDIR=$T timeout -s TERM 300 \
  "$CXW_SRC/deploy/local/run.sh" </dev/null 2>&1 |
  while IFS= read -r line; do
    printf '%.1f %s\n' "$(echo "$(date +%s.%N) - $start" | bc)" "$line"
  done >"$T/demo.out" || rc=$?
rc=${PIPESTATUS[0]:-$rc}
cat "$T/demo.out" >&2
grep -q ' stopping the local stack$' "$T/demo.out" || fail "the demo did not complete"
grep -q ' Succeeded [0-9]* | Rejected [0-9]* | Failed 0$' "$T/demo.out" || fail "no summary"
python3 - "$T/demo.out" <<'PY' || fail "the demo is silent too long before the stack is up"
import sys
lines = [l.rstrip("\n").split(" ", 1) for l in open(sys.argv[1])]
times = [float(t) for t, _ in lines]
assert times[0] <= 2.0, f"first line after {times[0]} s: {lines[0][1]}"
up = next(i for i, (_, l) in enumerate(lines) if l.startswith("local stack:"))
gaps = [(times[i] - times[i - 1], lines[i][1]) for i in range(1, up + 1)]
worst = max(gaps)
print(f"first line after {times[0]:.1f} s, stack up after {times[up]:.1f} s, "
      f"longest silence {worst[0]:.1f} s (before '{worst[1]}')")
assert worst[0] <= 10.0, worst
PY
# The samples' part of the output is the README's, line for line (batch ids
# aside).
python3 - "$CXW_SRC/README.md" "$T/demo.out" <<'PY' || fail "the demo's output is not the README's (above)"
import re, sys
keep = re.compile(r"^(config/samples/|batch batch-|Succeeded |  \S|publishing )")
ids = lambda l: re.sub(r"batch-\d{8}T\d{6}-[0-9a-f]{6}", "batch-ID", l)
readme = open(sys.argv[1], encoding="utf-8").read().split("\n")
start = readme.index("run.sh: checking the Debian packages of the build (scripts/install-deps.sh)")
want = [ids(l) for l in readme[start:readme.index("```", start)] if keep.match(l)]
got = [ids(l.rstrip("\n").split(" ", 1)[1]) for l in open(sys.argv[2])]
got = [l for l in got if keep.match(l)]
if want != got:
    for w, g in zip(want + [""] * len(got), got + [""] * len(want)):
        if w != g:
            print(f"  README: {w!r}\n  demo:   {g!r}", file=sys.stderr)
    sys.exit(1)
print(f"check: the {len(want)} lines of the samples' output are the README's")
PY
log "PASS"
