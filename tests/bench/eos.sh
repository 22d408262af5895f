#!/usr/bin/env bash
# The exactly-once benchmark of cxone-worker (issue 15), not part of ctest:
# run.sh's scenarios 3 (unlimited) and 1 (rate-limited) with
# kafka.exactly_once off and on, side by side.
#
#   tests/bench/eos.sh                 scenario 3: 50,000 updates, in flight 64/256/1024;
#                                      scenario 1: 5,000 updates, 1/2/4 replicas
#   tests/bench/eos.sh --quick         10,000 updates at 256 in flight; 1,000 updates
#                                      with 1/2/4 replicas (about 3 minutes)
#   tests/bench/run.sh --eos ARGS...   the same (run.sh hands over to this script;
#                                      --quick before --eos is passed on)
#   options: --in-flight LIST (scenario 3, e.g. 256; each 1..4096), --updates N (scenario 3,
#            1000..500000), --rate-updates N (scenario 1, 200..50000), --replicas LIST
#            (scenario 1, e.g. 1,2,4; each 1..4), --runs N (scenario 3: N off/on pairs per
#            in-flight level, the median reported; 1..9), --only 1,3 (a subset), --no-build,
#            --keep (keep the work directory), --out FILE.md (write the tables into
#            FILE's exactly-once section, e.g. docs/benchmarks.md), --report
#            FILE.jsonl (no measurement: report saved ones)
#
# Each run is run.sh's (tests/bench/lib.sh: rate_run, unlimited_run; fresh
# dev-kafka and sim), once with KAFKA_EXACTLY_ONCE=false and once with true
# (kafka.transaction_interval_ms 100, transaction_max_records 2000, the
# defaults), the workers at worker.log_level debug in both, for their
# "transaction committed" lines. An outcome is visible to a read_committed
# reader: off, at its own Kafka timestamp; on, when the commit of the
# transaction that carried it ended (tests/bench/eos.py says how it is
# matched). dev-kafka (librdkafka's mock cluster) does not hold uncommitted
# records back from read_committed readers, so the benchmark cannot read
# visibility off a consumer and takes it from the worker's commits.
# Figures: scenario 3 updates/s = outcomes / (last visible - first outcome's
# timestamp); scenario 1 utilization as run.sh measures it; the added latency
# (visible - the outcome's own timestamp) and produce -> visible (visible -
# the request's timestamp) p50 / p99.
# Targets: on >= 90 % of off (updates/s) at 256 in flight; utilization on >= 99 %.
# Only 127.0.0.1; every wait is bounded; every process started is stopped on exit.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH=$SRC/tests/bench
BUILD=$SRC/build-bench
BIN=$BUILD/bin

QUICK=0
ONLY=1,3
INFLIGHT=
S3_N=
S1_N=
REPLICAS=1,2,4
RUNS=1
BUILD_IT=1
KEEP=0
OUT=
REPORT_FROM=
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1; shift ;;
    --only) ONLY=${2:?--only needs a list, e.g. 1,3}; shift 2 ;;
    --in-flight) INFLIGHT=${2:?--in-flight needs a list, e.g. 64,256}; shift 2 ;;
    --updates) S3_N=${2:?--updates needs a number}; shift 2 ;;
    --rate-updates) S1_N=${2:?--rate-updates needs a number}; shift 2 ;;
    --replicas) REPLICAS=${2:?--replicas needs a list, e.g. 1,2,4}; shift 2 ;;
    --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
    --no-build) BUILD_IT=0; shift ;;
    --keep) KEEP=1; shift ;;
    --out) OUT=${2:?--out needs a file}; shift 2 ;;
    --report) REPORT_FROM=${2:?--report needs a results .jsonl}; shift 2 ;;
    -h | --help) sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "eos.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
num() { case $2 in '' | *[!0-9]*) echo "eos.sh: $1 takes a positive number" >&2; exit 2 ;; esac; }
list() { # OPTION VALUE MAX
  case ",$2," in *[!0-9,]* | *,,* | *,0*) echo "eos.sh: $1 takes numbers 1..$3, e.g. 1,2" >&2; exit 2 ;; esac
  for v in ${2//,/ }; do [ "$v" -le "$3" ] || { echo "eos.sh: $1: at most $3" >&2; exit 2; }; done
}
if [ $QUICK -eq 1 ]; then
  : "${S3_N:=10000}" "${S1_N:=1000}" "${INFLIGHT:=256}"
else
  : "${S3_N:=50000}" "${S1_N:=5000}" "${INFLIGHT:=64,256,1024}"
fi
num --updates "$S3_N"
num --rate-updates "$S1_N"
num --runs "$RUNS"
[ "$RUNS" -ge 1 ] && [ "$RUNS" -le 9 ] || { echo "eos.sh: --runs must be 1..9" >&2; exit 2; }
[ "$S3_N" -ge 1000 ] && [ "$S3_N" -le 500000 ] || { echo "eos.sh: --updates must be 1000..500000" >&2; exit 2; }
[ "$S1_N" -ge 200 ] && [ "$S1_N" -le 50000 ] || { echo "eos.sh: --rate-updates must be 200..50000" >&2; exit 2; }
list --in-flight "$INFLIGHT" 4096
list --replicas "$REPLICAS" 4
case ",$ONLY," in *[!0-9,]* | *[02456789]*) echo "eos.sh: --only takes 1 and/or 3, e.g. 1,3" >&2; exit 2 ;; esac
want() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }
[ -n "$REPORT_FROM" ] && BUILD_IT=0

report() { # RESULTS.jsonl
  local outflag=()
  [ -n "$OUT" ] && outflag=(--md "$OUT")
  python3 "$BENCH/eos.py" report "$1" "${outflag[@]}"
}
if [ -n "$REPORT_FROM" ]; then report "$REPORT_FROM"; exit 0; fi

# ---- tools and build
"$SRC/scripts/install-deps.sh" --bench
source "$BENCH/build.sh"
bench_build eos.sh

T=$(mktemp -d "${TMPDIR:-/tmp}/cxw-eosbench.XXXXXX")
RES=$T/runs.jsonl # run.sh's rows, as its runners write them
ERES=$T/results.jsonl # this benchmark's: those rows with the mode and the latency
: >"$RES"
: >"$ERES"
PIDS=()
export CXONE_CLIENT_ID=bench-client
CXONE_CLIENT_SECRET=bench-secret-$$-$RANDOM$RANDOM
export CXONE_CLIENT_SECRET
unset CXONE_RATE_LIMIT_RPS KAFKA_GROUP_ID CXONE_TOKEN_URL CXONE_WORKER_ADMIN_LISTEN \
  KAFKA_TRANSACTION_INTERVAL_MS KAFKA_TRANSACTION_MAX_RECORDS || true

# run.sh's sizes for scenarios 1 and 3 (the counts from the options above)
PARTS=12
SIM_RPS=200; SIM_BURST=20; S1_LAT=50

source "$BENCH/lib.sh"

WORKER_LOG_LEVEL=debug
MODE=off
# run_end's hook: the requests' timestamps, then when each outcome became visible
eos_after_run() {
  "$BIN/cxonectl" topic dump cxone.contact-updates >"$RUN/requests.json" 2>>"$RUN/ctl.log" ||
    die "topic dump cxone.contact-updates"
  python3 "$BENCH/eos.py" latency "$MODE" "$RUN" >"$RUN/latency.json" || die "eos.py latency"
  rm -f "$RUN/requests.json"
}
AFTER_RUN=eos_after_run

one() { # MODE RUNNER ARGS...: a run of run.sh's with exactly-once MODE
  MODE=$1; shift
  RUN_SUFFIX=-eos-$MODE${REP:+-$REP}
  if [ "$MODE" = on ]; then export KAFKA_EXACTLY_ONCE=true; else export KAFKA_EXACTLY_ONCE=false; fi
  log "exactly-once $MODE:"
  "$@"
  python3 "$BENCH/eos.py" row "$MODE" "$RES" "$RUN/latency.json" >>"$ERES"
  python3 "$BENCH/eos.py" line <"$ERES"
}

STARTED=$SECONDS
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average at start: $LOAD0"
# off and on alternate, so that a change in the machine's load hits both
if want 3; then
  REP=0 # each run its own directory
  for c in ${INFLIGHT//,/ }; do
    for _ in $(seq "$RUNS"); do
      REP=$((REP + 1))
      for m in off on; do one "$m" unlimited_run "$c"; done
    done
  done
fi
REP=
if want 1; then
  for rep in ${REPLICAS//,/ }; do
    for m in off on; do one "$m" rate_run 1 "$rep" "$S1_N" "$SIM_RPS" 1; done
  done
fi
commit=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$SRC" status --porcelain -- src include CMakeLists.txt 2>/dev/null)" ]; then
  commit="$commit (with uncommitted changes in src/include)"
fi
cmdline="tests/bench/eos.sh --only $ONLY --in-flight $INFLIGHT --runs $RUNS --updates $S3_N --rate-updates $S1_N --replicas $REPLICAS$([ $QUICK -eq 1 ] && echo ' --quick' || true)"
python3 -c 'import json, sys; print(json.dumps({"kind": "meta", "date": sys.argv[1], "commit": sys.argv[2], "duration_s": int(sys.argv[3]), "loadavg_start": sys.argv[4], "loadavg": sys.argv[5], "nproc": int(sys.argv[6]), "quick": sys.argv[7] == "1", "command": sys.argv[8]}))' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$commit" "$((SECONDS - STARTED))" "$LOAD0" \
  "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)" "$QUICK" "$cmdline" >>"$ERES"
cp "$ERES" "${TMPDIR:-/tmp}/cxw-eosbench-last.jsonl"
echo
echo "================ results ================"
report "$ERES"
log "raw measurements: ${TMPDIR:-/tmp}/cxw-eosbench-last.jsonl (tests/bench/eos.sh --report FILE to report them again)"
exit 0
