#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz/fuzz_*.c) in build-fuzz/ with
# clang-14 and runs each one from its seed corpus (tests/fuzz/corpus/<h>).
#   tests/fuzz/run.sh                  every harness about 15 s
#   tests/fuzz/run.sh --seconds N      every harness N s
#   tests/fuzz/run.sh --long           every harness to 1,000,000 executions
#   tests/fuzz/run.sh --jobs 2 ...     two harnesses at a time
#   tests/fuzz/run.sh ... fuzz_csvin   only the harnesses named
# Prints per harness: executions, coverage (libFuzzer's final cov:), crashes
# (crash, leak, timeout and out-of-memory artifacts; every input kept is run
# once more with leak detection at the end). Exits non-zero when a harness
# found any. Inputs found and artifacts stay under build-fuzz/run/
# (never in the repository); the committed seeds are only read.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

seconds=15
long=0
jobs=1
names=()
while [ $# -gt 0 ]; do
        case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --long) long=1; shift ;;
        --jobs) jobs=$2; shift 2 ;;
        -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
        -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
        *) names+=("$1"); shift ;;
        esac
done

cc=${CXW_FUZZ_CC:-clang-14}
if ! command -v "$cc" >/dev/null 2>&1; then
        echo "run.sh: $cc not found (set CXW_FUZZ_CC to another clang)" >&2
        exit 2
fi
build=$root/build-fuzz
echo "== fuzz build ($build, $cc, -fsanitize=fuzzer,address,undefined)"
# The layer check's shared libraries cannot link sanitized objects with
# --no-undefined; the fuzz build needs no layer check.
CC=$cc cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCXW_FUZZ=ON \
        -DCXW_LAYER_CHECK=OFF -Wno-dev --no-warn-unused-cli >/dev/null
cmake --build "$build" -j2 --target fuzzers

if [ ${#names[@]} -eq 0 ]; then
        for f in tests/fuzz/fuzz_*.c; do
                names+=("$(basename "$f" .c)")
        done
fi

if [ "$long" = 1 ]; then
        budget=(-runs=1000000)
        echo "== each harness to 1,000,000 executions"
else
        budget=(-max_total_time="$seconds")
        echo "== each harness ${seconds} s"
fi
opts=(-max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
export LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

rundir=$build/run

# Runs harness $1; writes its summary line to $rundir/$1/summary.
run_one() {
        local h=$1 bin=$build/fuzz/$1 seeds=$root/tests/fuzz/corpus/$1 out=$rundir/$1
        local start rc secs execs cov crashes result
        rm -rf "$out"
        mkdir -p "$out/corpus" "$out/artifacts" "$out/tmp"
        start=$(date +%s)
        # libconfig leaks a few bytes on a syntax error (lsan.supp): with leak
        # detection on, nearly every config input would cost a full leak scan
        # (two thirds of the time). The config harness fuzzes without it; the
        # leak pass below checks what it found.
        local extra=()
        [ "$h" = fuzz_config ] && extra=(-detect_leaks=0)
        set +e
        (cd "$out" && TMPDIR=$out/tmp "$bin" "${budget[@]}" "${opts[@]}" "${extra[@]}" \
                -artifact_prefix="$out/artifacts/" "$out/corpus" "$seeds" \
                >"$out/log" 2>&1)
        rc=$?
        # The leak pass: every input kept (and every seed) once more, leak
        # detection on.
        if [ "$rc" = 0 ]; then
                (cd "$out" && TMPDIR=$out/tmp "$bin" -runs=0 "${opts[@]}" \
                        -artifact_prefix="$out/artifacts/" "$out/corpus" "$seeds" \
                        >"$out/leak-pass.log" 2>&1)
                rc=$?
                [ "$rc" = 0 ] || cat "$out/leak-pass.log" >>"$out/log"
        fi
        set -e
        secs=$(($(date +%s) - start))
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" | tail -1)
        cov=$(grep -o 'cov: [0-9]*' "$out/log" | tail -1 | cut -d' ' -f2)
        crashes=$(find "$out/artifacts" -type f | wc -l)
        result=ok
        if [ "$rc" != 0 ] || [ "$crashes" != 0 ]; then
                result="FAILED (exit $rc, log $out/log)"
                {
                        find "$out/artifacts" -type f | sed 's/^/  artifact: /'
                        grep -m1 -E 'ERROR: |runtime error|invariant failed|ALARM' \
                                "$out/log" | sed 's/^/  /' || true
                } >"$out/why"
        fi
        printf '%-18s %12s %6s %8s %8s  %s\n' "$h" "${execs:-?}" "${cov:-?}" \
                "$crashes" "$secs" "$result" >"$out/summary"
        cat "$out/summary"
        [ -f "$out/why" ] && cat "$out/why"
        return 0
}

for h in "${names[@]}"; do
        [ -x "$build/fuzz/$h" ] || { echo "run.sh: no harness $h" >&2; exit 2; }
done
for h in "${names[@]}"; do
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
                wait -n || true
        done
        run_one "$h" &
done
wait

failed=0
echo "== fuzz summary ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo ?), $(date -u +%Y-%m-%d))"
printf '%-18s %12s %6s %8s %8s  %s\n' harness executions cov crashes seconds result
for h in "${names[@]}"; do
        cat "$rundir/$h/summary"
        grep -q ' ok$' "$rundir/$h/summary" || failed=1
done
exit $failed
