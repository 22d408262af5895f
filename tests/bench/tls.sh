#!/usr/bin/env bash
# The HTTPS benchmark of cxone-worker (issue 13): scenario 3 of run.sh
# ("unlimited") over plain HTTP and over HTTPS side by side (not part of ctest).
#
#   tests/bench/tls.sh                 runs 3 x (plain, tls) x in flight 64 and 1024
#   tests/bench/tls.sh --quick         10,000 updates, in flight 64, wrk 3 s (a few minutes)
#   tests/bench/run.sh --tls ARGS...   the same (run.sh hands over to this script)
#   options: --runs N (1..20, default 3), --in-flight LIST (e.g. 64,1024; each 1..4096),
#            --updates N (1000..500000), --no-build, --keep (keep the work directory),
#            --out FILE.md (write the tables into FILE's HTTPS section, e.g.
#            docs/benchmarks.md), --report FILE.jsonl (no measurement: report saved ones),
#            --perf (perf record the worker's window: CPU per shared object, user and
#            kernel, in <work dir>/<run>/perf-dso.txt; implies --keep; perf needed)
#
# Per run and mode (plain = http://, tls = https:// with a throw-away CA made by
# tests/integration/tls.sh and CXONE_CA_FILE, verification on):
#   worker: N distinct updates produced first, one worker with rate.rps = 0 and
#           http.max_in_flight C; CPU (user+sys, /proc) from holding its partitions
#           to 1 s after the sim applied all N, per update
#   wrk:    wrk -t2 -cC for S s against a fresh sim (tests/bench/patch.lua,
#           keep-alive; wrk does not verify the certificate), CPU per request
#   both:   the sim's `connections` and `tlsHandshakes` (/_sim/stats) less the
#           benchmark's own stats/token calls, beside the requests they carried
# Targets: worker/wrk CPU ratio <= 1.5 over HTTPS; handshakes one per connection
# (handshakes <= connections) and not per request (>= 100 requests per handshake).
# Only 127.0.0.1; every wait is bounded; every process started is stopped on exit.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH=$SRC/tests/bench
BUILD=$SRC/build-bench
BIN=$BUILD/bin

QUICK=0
RUNS=3
INFLIGHT=
N=
BUILD_IT=1
KEEP=0
OUT=
REPORT_FROM=
PERF=0
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1; shift ;;
    --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
    --in-flight) INFLIGHT=${2:?--in-flight needs a list, e.g. 64,1024}; shift 2 ;;
    --updates) N=${2:?--updates needs a number}; shift 2 ;;
    --no-build) BUILD_IT=0; shift ;;
    --keep) KEEP=1; shift ;;
    --perf) PERF=1; KEEP=1; shift ;;
    --out) OUT=${2:?--out needs a file}; shift 2 ;;
    --report) REPORT_FROM=${2:?--report needs a results .jsonl}; shift 2 ;;
    -h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "tls.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
num() { case $2 in '' | *[!0-9]*) echo "tls.sh: $1 takes a positive number" >&2; exit 2 ;; esac; }
num --runs "$RUNS"
[ "$RUNS" -ge 1 ] && [ "$RUNS" -le 20 ] || { echo "tls.sh: --runs must be 1..20" >&2; exit 2; }
if [ $QUICK -eq 1 ]; then
  : "${N:=10000}" "${INFLIGHT:=64}"; WRK_SECS=3
else
  : "${N:=50000}" "${INFLIGHT:=64,1024}"; WRK_SECS=10
fi
num --updates "$N"
[ "$N" -ge 1000 ] && [ "$N" -le 500000 ] || { echo "tls.sh: --updates must be 1000..500000" >&2; exit 2; }
case ",$INFLIGHT," in *[!0-9,]* | *,,* | *,0*) echo "tls.sh: --in-flight takes numbers 1..4096, e.g. 64,1024" >&2; exit 2 ;; esac
for c in ${INFLIGHT//,/ }; do
  [ "$c" -le 4096 ] || { echo "tls.sh: --in-flight: at most 4096" >&2; exit 2; }
done
[ -n "$REPORT_FROM" ] && BUILD_IT=0

report() { # RESULTS.jsonl
  local outflag=()
  [ -n "$OUT" ] && outflag=(--md "$OUT")
  python3 "$BENCH/tls.py" report "$1" "${outflag[@]}"
}
if [ -n "$REPORT_FROM" ]; then report "$REPORT_FROM"; exit 0; fi

# ---- tools and build
"$SRC/scripts/install-deps.sh" --bench
[ $PERF -eq 0 ] || command -v perf >/dev/null || { echo "tls.sh: --perf needs perf" >&2; exit 1; }
command -v openssl >/dev/null || { echo "tls.sh: openssl (CLI) is needed" >&2; exit 1; }
source "$BENCH/build.sh"
bench_build tls.sh

T=$(mktemp -d "${TMPDIR:-/tmp}/cxw-tlsbench.XXXXXX")
RES=$T/results.jsonl
: >"$RES"
PIDS=()
export CXONE_CLIENT_ID=bench-client
CXONE_CLIENT_SECRET=bench-secret-$$-$RANDOM$RANDOM
export CXONE_CLIENT_SECRET
unset CXONE_RATE_LIMIT_RPS KAFKA_GROUP_ID CXONE_TOKEN_URL CXONE_WORKER_ADMIN_LISTEN CXONE_CA_FILE || true

source "$BENCH/lib.sh"

# the throw-away CA and the sim's certificate (openssl CLI)
# shellcheck source=../integration/tls.sh
source "$SRC/tests/integration/tls.sh"
make_test_ca "$T/ca" >/dev/null || die "make_test_ca failed"

MODE=plain
CURL_TLS=()
start_kafka() {
  "$BIN/cxonectl" dev-kafka --partitions 12 >"$RUN/kafka.out" 2>"$RUN/kafka.log" &
  PIDS+=($!)
  wait_until 30 grep -q . "$RUN/kafka.out" || die "dev-kafka did not start"
  KAFKA_BOOTSTRAP_SERVERS=$(head -n 1 "$RUN/kafka.out")
  export KAFKA_BOOTSTRAP_SERVERS
}
start_sim() {
  local tls=()
  [ "$MODE" = tls ] && tls=(--tls-cert "$TLS_CERT" --tls-key "$TLS_KEY")
  "$BIN/cxone-sim" --listen 127.0.0.1:0 --client-id "$CXONE_CLIENT_ID" \
    --client-secret "$CXONE_CLIENT_SECRET" --log-level warn "${tls[@]}" \
    >"$RUN/sim.out" 2>"$RUN/sim.log" &
  SIM_PID=$!
  PIDS+=($SIM_PID)
  wait_until 20 grep -q . "$RUN/sim.out" || die "cxone-sim did not start"
  CXONE_BASE_URL=$(head -n 1 "$RUN/sim.out")
  CXONE_BASE_URL=${CXONE_BASE_URL#listening on }
  export CXONE_BASE_URL
  case $MODE:$CXONE_BASE_URL in
    plain:http://127.0.0.1:* | tls:https://127.0.0.1:*) ;;
    *) die "sim not on loopback with the expected scheme: $CXONE_BASE_URL" ;;
  esac
  CURL_TLS=()
  [ "$MODE" = tls ] && CURL_TLS=(--cacert "$TLS_CA")
  : >"$RUN/own_calls"
}
# every call of ours to the sim is one connection (and one handshake over TLS):
# counted in own_calls, so the worker's and wrk's own can be told apart
sim_stats() {
  echo >>"$RUN/own_calls"
  curl -fsS --max-time 10 "${CURL_TLS[@]}" "$CXONE_BASE_URL/_sim/stats"
}
sim_applied_ge() {
  local a
  a=$(sim_stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["contactsApplied"])') || return 1
  [ "$a" -ge "$1" ]
}
cpu_of() { awk '{printf "%.2f\n", ($14 + $15) / '"$(getconf CLK_TCK)"'}' "/proc/$1/stat"; }
assigned() {
  kill -0 "$1" 2>/dev/null || die "worker $1 exited"
  python3 "$BENCH/bench.py" shares "$RUN/w1.log" --partitions 12
}

worker_run() { # RUN_NO IN_FLIGHT
  local runno=$1 c=$2 w cpu0 cpu1 ca=() pp=
  RUN=$T/$MODE-w-c$c-$runno
  mkdir -p "$RUN"
  log "$MODE: worker, $N updates, max_in_flight $c, run $runno"
  start_kafka
  start_sim
  python3 "$SRC/tests/integration/gen_contacts.py" "$N" "$N" >"$RUN/in.csv"
  "$BIN/cxonectl" contacts import "$RUN/in.csv" --batch-id "t$runno-$c" --quiet \
    >"$RUN/import.out" 2>"$RUN/import.log" || die "import exited $?"
  cat >"$RUN/w.conf" <<CONF
kafka = { consumer_properties = [ "session.timeout.ms=6000", "heartbeat.interval.ms=500" ]; };
worker = { shutdown_deadline_ms = 10000; log_level = "info"; };
rate = { rps = 0.0; };
http = { max_in_flight = $c; };
CONF
  [ "$MODE" = tls ] && ca=(env "CXONE_CA_FILE=$TLS_CA")
  "${ca[@]}" "$BIN/cxone-worker" -c "$RUN/w.conf" 2>"$RUN/w1.log" &
  w=$!
  PIDS+=($w)
  wait_until 90 assigned "$w" || die "worker got no partitions"
  if [ $PERF -eq 1 ]; then
    perf record -q -F 999 -p "$w" -o "$RUN/perf.data" >"$RUN/perf.log" 2>&1 &
    pp=$!
    PIDS+=($pp)
  fi
  cpu0=$(cpu_of "$w")
  wait_until $((N / 300 + 60)) sim_applied_ge "$N" || die "sim saw fewer than $N updates"
  sleep 1
  cpu1=$(cpu_of "$w")
  if [ -n "$pp" ]; then
    kill -INT "$pp" 2>/dev/null || true
    stop_pids "$pp"
    perf report -i "$RUN/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -n 25 >"$RUN/perf-dso.txt" || true
    log "   perf, CPU per shared object: $RUN/perf-dso.txt"
    head -n 8 "$RUN/perf-dso.txt" >&2 || true
  fi
  sim_stats >"$RUN/stats.json" || die "sim stats"
  stop_pids "$w"
  "$BIN/cxonectl" topic dump cxone.results >"$RUN/results.json" 2>>"$RUN/ctl.log" || die "topic dump"
  python3 "$BENCH/bench.py" span "$RUN/results.json" >"$RUN/span.json"
  python3 "$BENCH/tls.py" row worker "$MODE" "$runno" "$c" "$N" "$RUN" "$cpu0" "$cpu1" \
    "$(wc -l <"$RUN/own_calls")" >>"$RES"
  python3 "$BENCH/tls.py" line <"$RES"
  stop_pids "${PIDS[@]}"
  rm -f "$RUN"/*.csv "$RUN/results.json"
}

wrk_run() { # RUN_NO CONNECTIONS
  local runno=$1 c=$2 tok thr=2
  [ "$c" -lt 2 ] && thr=1
  RUN=$T/$MODE-wrk-c$c-$runno
  mkdir -p "$RUN"
  log "$MODE: wrk -t$thr -c$c -d${WRK_SECS}s, run $runno"
  start_sim
  echo >>"$RUN/own_calls"
  tok=$(curl -fsS --max-time 10 "${CURL_TLS[@]}" -u "$CXONE_CLIENT_ID:$CXONE_CLIENT_SECRET" \
    -d grant_type=client_credentials "$CXONE_BASE_URL/oauth/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') || die "no token"
  sed "s/@TOKEN@/$tok/" "$BENCH/patch.lua" >"$RUN/patch.lua"
  timeout $((WRK_SECS + 60)) /usr/bin/time -f "%U %S" -o "$RUN/time.out" \
    wrk -t$thr -c"$c" -d"${WRK_SECS}s" -s "$RUN/patch.lua" "$CXONE_BASE_URL" \
    >"$RUN/wrk.out" 2>&1 || die "wrk failed: $(cat "$RUN/wrk.out")"
  python3 "$BENCH/bench.py" wrk "$RUN/wrk.out" "$RUN/time.out" >"$RUN/wrk.json"
  sim_stats >"$RUN/stats.json" || die "sim stats"
  python3 "$BENCH/tls.py" row wrk "$MODE" "$runno" "$c" 0 "$RUN" 0 0 \
    "$(wc -l <"$RUN/own_calls")" >>"$RES"
  python3 "$BENCH/tls.py" line <"$RES"
  stop_pids "${PIDS[@]}"
}

STARTED=$SECONDS
log "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$RUNS"); do
  for c in ${INFLIGHT//,/ }; do
    for MODE in plain tls; do
      worker_run "$i" "$c"
      wrk_run "$i" "$c"
    done
  done
done
commit=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$SRC" status --porcelain -- src include CMakeLists.txt 2>/dev/null)" ]; then
  commit="$commit (with uncommitted changes in src/include)"
fi
python3 -c 'import json, sys; print(json.dumps({"kind": "meta", "date": sys.argv[1], "commit": sys.argv[2], "duration_s": int(sys.argv[3]), "loadavg": sys.argv[4], "nproc": int(sys.argv[5]), "quick": sys.argv[6] == "1", "command": sys.argv[7]}))' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$commit" "$((SECONDS - STARTED))" \
  "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)" "$QUICK" "tests/bench/tls.sh --runs $RUNS --in-flight $INFLIGHT --updates $N$([ $QUICK -eq 1 ] && echo ' --quick')" >>"$RES"
cp "$RES" "${TMPDIR:-/tmp}/cxw-tlsbench-last.jsonl"
echo
echo "================ results ================"
report "$RES"
log "raw measurements: ${TMPDIR:-/tmp}/cxw-tlsbench-last.jsonl (tests/bench/tls.sh --report FILE to report them again)"
exit 0
