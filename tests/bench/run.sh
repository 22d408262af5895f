#!/usr/bin/env bash
# The throughput / rate-budget benchmark of cxone-worker (not part of ctest).
#
#   tests/bench/run.sh                  all four scenarios, writes docs/benchmarks.{md,png}
#   tests/bench/run.sh --only 1,3       a subset (report goes to the work directory)
#   tests/bench/run.sh --quick          a short smoke version (< 2 minutes)
#   options: --runs N (repeats of scenarios 1 and 2, default 3), --no-build,
#            --out DIR (where benchmarks.md/.png go), --keep (keep the work directory),
#            --report FILE.jsonl (no measurement: rewrite the report from saved measurements)
#   env BENCH_SIM_ARGS: extra cxone-sim flags for every sim (diagnostics, e.g. "--threads 1")
#   tests/bench/run.sh --tls ARGS...   scenario 3 over HTTP and HTTPS side by side
#            (= tests/bench/tls.sh ARGS..., --quick before --tls is passed on)
#
# Scenarios (docs/benchmarks.md explains the method and the targets):
#   1 rate-limited: 5,000 updates, sim 200/s burst 20 latency 50 ms, budget the same,
#     1, 2 and 4 replicas over 12 partitions
#   2 budget 2x too high: budget 400/s against the same sim, 1 and 2 replicas
#   3 unlimited: 50,000 updates, sim without limit or latency, in flight 64/256/1024,
#     and wrk against the same sim with the same concurrency
#   4 backlog: 200,000 messages, sim latency 200 ms, one worker with buffer limits
#     10,000 messages / 16 MiB, VmRSS sampled every 0.5 s
#   scaling (replicas joining and leaving under load): run.sh --scale ARGS... = tests/bench/scale.sh
#   batching (seed vs address-book target at 20 requests/s): run.sh --batch ARGS... = tests/bench/batch.sh
#            (--quick before --batch is passed on)
#   exactly-once (scenarios 3 and 1 with kafka.exactly_once off and on): run.sh --eos ARGS...
#            = tests/bench/eos.sh (--quick before --eos is passed on)
#
# Only 127.0.0.1; every wait is bounded; every process started is stopped on exit.
# Targets are printed as PASS/MISS; a miss does not change the exit status.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH=$SRC/tests/bench
BUILD=$SRC/build-bench
BIN=$BUILD/bin

ONLY=1,2,3,4
QUICK=0
RUNS=
BUILD_IT=1
OUT=
KEEP=0
REPORT_FROM=
while [ $# -gt 0 ]; do
  case $1 in
    --only) ONLY=${2:?--only needs a list, e.g. 1,3}; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --tls) shift; [ $QUICK -eq 1 ] && set -- --quick "$@"; exec "$SRC/tests/bench/tls.sh" "$@" ;;
    --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
    --no-build) BUILD_IT=0; shift ;;
    --out) OUT=${2:?--out needs a directory}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --scale) shift; exec "$SRC/tests/bench/scale.sh" "$@" ;;
    --batch) shift; [ $QUICK -eq 1 ] && set -- --quick "$@"; exec "$SRC/tests/bench/batch.sh" "$@" ;;
    --eos) shift; [ $QUICK -eq 1 ] && set -- --quick "$@"; exec "$SRC/tests/bench/eos.sh" "$@" ;;
    --report) REPORT_FROM=${2:?--report needs a results .jsonl}; shift 2 ;;
    -h | --help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
[ -n "$REPORT_FROM" ] && BUILD_IT=0
case ",$ONLY," in *[!0-9,]*) echo "run.sh: --only takes numbers 1-4, e.g. 1,3" >&2; exit 2 ;; esac
want() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }

# ---- sizes (full / quick)
PARTS=12
if [ $QUICK -eq 1 ]; then
  S1_N=1000; S1_REPLICAS="1 2 4"; S1_RUNS=${RUNS:-1}
  S2_N=1000; S2_REPLICAS="1"; S2_RUNS=${RUNS:-1}
  S3_N=10000; S3_INFLIGHT="64 1024"; WRK_SECS=2
  S4_N=40000; S4_SECS=6
else
  S1_N=5000; S1_REPLICAS="1 2 4"; S1_RUNS=${RUNS:-3}
  S2_N=5000; S2_REPLICAS="1 2"; S2_RUNS=${RUNS:-3}
  S3_N=50000; S3_INFLIGHT="64 256 1024"; WRK_SECS=10
  S4_N=200000; S4_SECS=25
fi
SIM_RPS=200; SIM_BURST=20; S1_LAT=50; S4_LAT=200
S4_MSGS=10000; S4_BYTES=16777216

# ---- tools and build
"$SRC/scripts/install-deps.sh" --bench
source "$BENCH/build.sh"
bench_build run.sh

T=$(mktemp -d "${TMPDIR:-/tmp}/cxw-bench.XXXXXX")
RES=$T/results.jsonl
: >"$RES"
PIDS=()
export CXONE_CLIENT_ID=bench-client
CXONE_CLIENT_SECRET=bench-secret-$$-$RANDOM$RANDOM
export CXONE_CLIENT_SECRET
unset CXONE_RATE_LIMIT_RPS KAFKA_GROUP_ID CXONE_TOKEN_URL CXONE_WORKER_ADMIN_LISTEN || true

source "$BENCH/lib.sh"

# The stack of one measurement (run_begin, start_kafka, start_sim, start_workers, ...)
# and the runs of scenarios 1-3 (rate_run, unlimited_run) are in lib.sh.

wrk_run() { # CONNECTIONS
  local c=$1 tok thr=2
  [ "$c" -lt 2 ] && thr=1
  run_begin "s3-wrk-c$c"
  log "scenario 3: wrk -t$thr -c$c -d${WRK_SECS}s against the sim"
  start_sim
  tok=$(curl -fsS --max-time 10 -u "$CXONE_CLIENT_ID:$CXONE_CLIENT_SECRET" \
    -d grant_type=client_credentials "$CXONE_BASE_URL/oauth/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') || die "no token"
  sed "s/@TOKEN@/$tok/" "$BENCH/patch.lua" >"$RUN/patch.lua"
  timeout $((WRK_SECS + 60)) /usr/bin/time -f "%U %S" -o "$RUN/time.out" \
    wrk -t$thr -c"$c" -d"${WRK_SECS}s" -s "$RUN/patch.lua" "$CXONE_BASE_URL" \
    >"$RUN/wrk.out" 2>&1 || die "wrk failed: $(cat "$RUN/wrk.out")"
  python3 "$BENCH/bench.py" wrk "$RUN/wrk.out" "$RUN/time.out" >"$RUN/wrk.json"
  sim_stats >"$RUN/stats.json"
  python3 - "$RUN" "$c" "$thr" >>"$RES" <<'PY'
import json, sys
d, c, thr = sys.argv[1:]
r = json.load(open(d + "/wrk.json")); sim = json.load(open(d + "/stats.json"))
r.update(scenario=3, kind="wrk", in_flight=int(c), threads=int(thr),
         sim_200=sim["requests"].get("200", 0))
print(json.dumps(r))
PY
  tail -n 1 "$RES" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("   %.0f requests/s, %.2f us CPU/request (wrk), non-2xx %d %s" % (r["rps"], r["cpu_us_per_req"] or 0, r["non2xx"], r["socket_errors"]))' >&2
  run_end
}

# ---- scenario 4: backlog with CXone slow
backlog_run() {
  local n=$S4_N w base t peak=0 v samples=() hwm end consumed
  run_begin s4
  log "scenario 4: backlog of $n, sim latency $S4_LAT ms, buffer limits $S4_MSGS / $S4_BYTES"
  start_kafka
  start_sim --latency-ms "$S4_LAT"
  write_conf "$RUN/w.conf" "rate = { rps = 0.0; };
limits = { max_buffered_messages = $S4_MSGS; max_buffered_bytes = $S4_BYTES; };"
  # the base: an idle worker (own group, empty topic), 3 s after it got its partitions
  KAFKA_GROUP_ID=bench-idle start_workers 1 "$RUN/w.conf" idle
  wait_until 90 all_assigned || die "idle worker got no partitions"
  sleep 3
  base=$(vm_kib "${WORKERS[0]}" VmRSS)
  stop_pids "${WORKERS[0]}"
  log "   idle worker VmRSS $((base / 1024)) MiB; producing the backlog"
  gen_csv "$n" "$n" "$RUN/in.csv"
  import_csv "$RUN/in.csv" b4 || die "import exited $?"
  KAFKA_GROUP_ID=bench-backlog start_workers 1 "$RUN/w.conf"
  w=${WORKERS[0]}
  t=0
  end=$((S4_SECS * 2))
  for _ in $(seq 1 "$end"); do
    kill -0 "$w" 2>/dev/null || die "worker exited under the backlog"
    v=$(vm_kib "$w" VmRSS)
    samples+=("$t $v")
    [ "$v" -gt "$peak" ] && peak=$v
    sleep 0.5
    t=$(awk -v a="$t" 'BEGIN { printf "%.1f", a + 0.5 }')
  done
  hwm=$(vm_kib "$w" VmHWM)
  sim_stats >"$RUN/stats.json"
  stop_pids "$w"
  python3 "$BENCH/bench.py" stopped "$RUN/w1.log" >"$RUN/stopped.json"
  consumed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["consumed"])' "$RUN/stopped.json")
  printf '%s\n' "${samples[@]}" >"$RUN/samples.txt"
  python3 - "$RUN" "$n" "$base" "$peak" "$hwm" "$consumed" "$S4_SECS" "$S4_LAT" "$S4_MSGS" \
    "$S4_BYTES" >>"$RES" <<'PY'
import json, sys
d, n, base, peak, hwm, consumed, secs, lat, msgs, byts = sys.argv[1:]
sim = json.load(open(d + "/stats.json"))
log = open(d + "/w1.log", errors="replace").read()
samples = [(float(a), int(b) / 1024.0) for a, b in
           (l.split() for l in open(d + "/samples.txt") if l.strip())]
print(json.dumps({
    "scenario": 4, "backlog": int(n), "base_mib": int(base) / 1024.0,
    "peak_rss_mib": int(peak) / 1024.0, "hwm_mib": int(hwm) / 1024.0,
    "consumed": int(consumed), "applied": sim["contactsApplied"],
    "sampled_s": float(secs), "latency_ms": int(lat), "max_buffered_messages": int(msgs),
    "max_buffered_bytes": int(byts), "paused": "paused consumption" in log,
    "pauses": log.count("paused consumption"), "resumes": log.count("resumed consumption"),
    "samples": samples}))
PY
  tail -n 1 "$RES" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("   base %.1f MiB, peak VmRSS %.1f MiB, VmHWM %.1f MiB, consumed %d, paused %s (%d pauses)" % (r["base_mib"], r["peak_rss_mib"], r["hwm_mib"], r["consumed"], r["paused"], r["pauses"]))' >&2
  run_end
}

# ---- run
STARTED=$SECONDS
if [ -n "$REPORT_FROM" ]; then
  cp "$REPORT_FROM" "$RES"
  ONLY=none
fi
if want 1; then
  for rep in $S1_REPLICAS; do
    for i in $(seq 1 "$S1_RUNS"); do rate_run 1 "$rep" "$S1_N" "$SIM_RPS" "$i"; done
  done
fi
if want 2; then
  for rep in $S2_REPLICAS; do
    for i in $(seq 1 "$S2_RUNS"); do rate_run 2 "$rep" "$S2_N" $((2 * SIM_RPS)) "$i"; done
  done
fi
if want 3; then
  for c in $S3_INFLIGHT; do unlimited_run "$c"; wrk_run "$c"; done
  # diagnostic, not judged: librdkafka's default prefetch instead of the worker's
  [ $QUICK -eq 1 ] || unlimited_run 1024 queued.min.messages=100000
fi
if want 4; then backlog_run; fi
log "measurements done in $((SECONDS - STARTED)) s"
if [ -z "$REPORT_FROM" ]; then
  commit=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [ -n "$(git -C "$SRC" status --porcelain -- src include CMakeLists.txt 2>/dev/null)" ]; then
    commit="$commit (with uncommitted changes in src/include)"
  fi
  python3 -c 'import json, sys; print(json.dumps({"scenario": 0, "date": sys.argv[1], "commit": sys.argv[2], "duration": sys.argv[3]}))' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$commit" "$((SECONDS - STARTED)) s of measurements" >>"$RES"
fi

# ---- report
if [ -z "$OUT" ]; then
  if { [ "$ONLY" = 1,2,3,4 ] || [ -n "$REPORT_FROM" ]; } && [ $QUICK -eq 0 ]; then
    OUT=$SRC/docs
  else
    OUT=$T/report; KEEP=1
  fi
fi
mkdir -p "$OUT" "$T/dat"
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
quickflag=()
[ $QUICK -eq 1 ] && quickflag=(--quick)
echo
echo "================ results ================"
python3 "$BENCH/bench.py" report "$RES" --md "$OUT/benchmarks.md" --dat "$T/dat" "${quickflag[@]}" \
  --meta "nproc=$(nproc)" "cpu=$cpu_model" "kernel=$(uname -sr)" "build=RelWithDebInfo ($BUILD)"
if command -v gnuplot >/dev/null 2>&1; then
  gnuplot -e "dat='$T/dat'; out='$OUT/benchmarks.png'" "$BENCH/plot.gp" 2>"$T/gnuplot.log" ||
    log "gnuplot failed: $(cat "$T/gnuplot.log")"
fi
[ -n "$REPORT_FROM" ] || cp "$RES" "${TMPDIR:-/tmp}/cxw-bench-last.jsonl"
log "report: $OUT/benchmarks.md, $OUT/benchmarks.png; raw measurements: ${TMPDIR:-/tmp}/cxw-bench-last.jsonl"
exit 0
