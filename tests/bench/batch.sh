#!/usr/bin/env bash
# The batching benchmark of cxone-worker (issue 14), not part of ctest: the
# sim limited to 20 requests/s (burst 5), the seed target (one update per
# request) against the address-book target (up to cxone.batch_max updates per
# request), 1 and 2 replicas, side by side.
#
#   tests/bench/batch.sh                  20,000 updates (address-book), 600 (seed)
#   tests/bench/batch.sh --quick          3,000 (address-book), 300 (seed)
#   tests/bench/run.sh --batch ARGS...    the same (run.sh hands over to this script)
#   options: --updates N (address-book, 500..200000), --seed-updates N (seed, 100..20000),
#            --replicas LIST (e.g. 1,2; each 1..4), --targets LIST (seed,address-book),
#            --budget RPS (the workers' rate.rps, default 20 = the sim's limit), --no-build, --keep (keep the
#            work directory), --out FILE.md (write the table into FILE's batching
#            section, e.g. docs/benchmarks.md), --report FILE.jsonl (no
#            measurement: report saved ones)
#
# The seed target at 20 requests/s moves 20 updates/s, so it gets fewer
# updates (600 take 30 s; 20,000 would take 1,000 s); the rates compare.
# Per run: a fresh dev-kafka (12 partitions) and sim (plain HTTP on
# 127.0.0.1; seed profile or --profile cxone), the workers started and
# holding their partitions, then the N updates produced at once (cxonectl
# contacts import, N updates over N/2 contacts). Measured from the start of
# the import to the last outcome's finishedAt: updates/s, the requests the
# sim let through and handled per second (utilization = that / 20), updates
# per request; latency from produce to outcome = finishedAt - the import's
# start (an upper bound; the table also gives the lower bound from the
# import's end), which with all N produced at once is mostly queueing.
# "steady requests/s" = the requests after the burst of 5 over the time
# from the first outcome to the last (the start left out).
# Targets: address-book >= 20x the seed target's updates/s, utilization >= 98 %.
# Only 127.0.0.1; every wait is bounded; every process started is stopped on exit.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH=$SRC/tests/bench
BUILD=$SRC/build-bench
BIN=$BUILD/bin
LIMIT=20
BURST=5

QUICK=0
N=
NSEED=
REPLICAS=1,2
TARGETS=seed,address-book
BUDGET=$LIMIT.0
BUILD_IT=1
KEEP=0
OUT=
REPORT_FROM=
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1; shift ;;
    --updates) N=${2:?--updates needs a number}; shift 2 ;;
    --seed-updates) NSEED=${2:?--seed-updates needs a number}; shift 2 ;;
    --replicas) REPLICAS=${2:?--replicas needs a list, e.g. 1,2}; shift 2 ;;
    --targets) TARGETS=${2:?--targets needs a list, e.g. seed,address-book}; shift 2 ;;
    --budget) BUDGET=${2:?--budget needs requests/s, e.g. 19.8}; shift 2 ;;
    --no-build) BUILD_IT=0; shift ;;
    --keep) KEEP=1; shift ;;
    --out) OUT=${2:?--out needs a file}; shift 2 ;;
    --report) REPORT_FROM=${2:?--report needs a results .jsonl}; shift 2 ;;
    -h | --help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "batch.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
num() { case $2 in '' | *[!0-9]*) echo "batch.sh: $1 takes a positive number" >&2; exit 2 ;; esac; }
if [ $QUICK -eq 1 ]; then
  : "${N:=3000}" "${NSEED:=300}"
else
  : "${N:=20000}" "${NSEED:=600}"
fi
num --updates "$N"
num --seed-updates "$NSEED"
[ "$N" -ge 500 ] && [ "$N" -le 200000 ] || { echo "batch.sh: --updates must be 500..200000" >&2; exit 2; }
[ "$NSEED" -ge 100 ] && [ "$NSEED" -le 20000 ] ||
  { echo "batch.sh: --seed-updates must be 100..20000" >&2; exit 2; }
case ",$REPLICAS," in *[!0-9,]* | *,,* | *,0*) echo "batch.sh: --replicas takes numbers 1..4, e.g. 1,2" >&2; exit 2 ;; esac
for r in ${REPLICAS//,/ }; do
  [ "$r" -le 4 ] || { echo "batch.sh: --replicas: at most 4" >&2; exit 2; }
done
case $BUDGET in [1-9] | [1-9][0-9] | [1-9].[0-9]* | [1-9][0-9].[0-9]*) ;;
  *) echo "batch.sh: --budget takes requests/s 1..99.9, e.g. 19.8" >&2; exit 2 ;; esac
case ${BUDGET#*.} in *[!0-9]*) echo "batch.sh: --budget takes a number, e.g. 19.8" >&2; exit 2 ;; esac
for t in ${TARGETS//,/ }; do
  case $t in seed | address-book) ;; *) echo "batch.sh: --targets: seed, address-book" >&2; exit 2 ;; esac
done
[ -n "$REPORT_FROM" ] && BUILD_IT=0

report() { # RESULTS.jsonl
  local outflag=()
  [ -n "$OUT" ] && outflag=(--md "$OUT")
  python3 "$BENCH/batch.py" report "$1" "${outflag[@]}"
}
if [ -n "$REPORT_FROM" ]; then report "$REPORT_FROM"; exit 0; fi

# ---- build
source "$BENCH/build.sh"
bench_build batch.sh

T=$(mktemp -d "${TMPDIR:-/tmp}/cxw-batchbench.XXXXXX")
RES=$T/results.jsonl
: >"$RES"
PIDS=()
export CXONE_CLIENT_ID=bench-client
CXONE_CLIENT_SECRET=bench-secret-$$-$RANDOM$RANDOM
export CXONE_CLIENT_SECRET
export CXONE_ACCESS_KEY_ID=AK-bench
CXONE_ACCESS_KEY_SECRET=ak-$$-$RANDOM$RANDOM
export CXONE_ACCESS_KEY_SECRET
unset CXONE_RATE_LIMIT_RPS KAFKA_GROUP_ID CXONE_TOKEN_URL CXONE_WORKER_ADMIN_LISTEN CXONE_CA_FILE \
  CXONE_PROFILE CXONE_ISSUER_URL CXONE_CONTACTS_TARGET CXONE_ADDRESS_BOOK_ID CXONE_BASE_URL || true

source "$BENCH/lib.sh"

start_kafka() {
  "$BIN/cxonectl" dev-kafka --partitions 12 >"$RUN/kafka.out" 2>"$RUN/kafka.log" &
  PIDS+=($!)
  wait_until 30 grep -q . "$RUN/kafka.out" || die "dev-kafka did not start"
  KAFKA_BOOTSTRAP_SERVERS=$(head -n 1 "$RUN/kafka.out")
  export KAFKA_BOOTSTRAP_SERVERS
}
SIM=
start_sim() { # TARGET
  local prof=()
  [ "$1" = address-book ] && prof=(--profile cxone --access-key-id "$CXONE_ACCESS_KEY_ID"
    --access-key-secret "$CXONE_ACCESS_KEY_SECRET" --address-books 1001)
  "$BIN/cxone-sim" --listen 127.0.0.1:0 --client-id "$CXONE_CLIENT_ID" \
    --client-secret "$CXONE_CLIENT_SECRET" --log-level warn "${prof[@]}" \
    --rate-limit $LIMIT --burst $BURST >"$RUN/sim.out" 2>"$RUN/sim.log" &
  PIDS+=($!)
  wait_until 20 grep -q . "$RUN/sim.out" || die "cxone-sim did not start"
  SIM=$(head -n 1 "$RUN/sim.out")
  SIM=${SIM#listening on }
  case $SIM in http://127.0.0.1:*) ;; *) die "sim not on loopback over HTTP: $SIM" ;; esac
}
sim_stats() { curl -fsS --max-time 10 "$SIM/_sim/stats"; }
sim_done_ge() { # KEY N
  local a
  a=$(sim_stats | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1") ||
    return 1
  [ "$a" -ge "$2" ]
}
results_ge() { # N
  "$BIN/cxonectl" topic dump cxone.results >"$RUN/results.json" 2>>"$RUN/ctl.log" || return 1
  [ "$(wc -l <"$RUN/results.json")" -ge "$1" ]
}
assigned() { # REPLICAS
  local i
  for i in $(seq 1 "$1"); do
    kill -0 "${WPIDS[$i]}" 2>/dev/null || die "worker w$i exited"
  done
  local args=()
  for i in $(seq 1 "$1"); do args+=("$RUN/w$i.log"); done
  python3 "$BENCH/bench.py" shares "${args[@]}" --partitions 12 >/dev/null 2>&1
}
now() { date +%s.%N; }

WPIDS=()
one_run() { # TARGET REPLICAS UPDATES
  local target=$1 reps=$2 n=$3 i t0 t1 key env=()
  RUN=$T/$target-r$reps
  mkdir -p "$RUN"
  log "$target, $reps replica(s), $n updates"
  start_kafka
  start_sim "$target"
  if [ "$target" = address-book ]; then
    env=(env CXONE_PROFILE=cxone "CXONE_ISSUER_URL=$SIM" CXONE_CONTACTS_TARGET=address-book
      CXONE_ADDRESS_BOOK_ID=1001)
    key=addressBookEntries
  else
    env=(env "CXONE_BASE_URL=$SIM")
    key=contactsApplied
  fi
  cat >"$RUN/w.conf" <<CONF
kafka = { consumer_properties = [ "session.timeout.ms=6000", "heartbeat.interval.ms=500" ]; };
worker = { shutdown_deadline_ms = 10000; log_level = "info"; };
rate = { rps = $BUDGET; burst = $BURST; };
CONF
  python3 "$SRC/tests/integration/gen_contacts.py" "$n" $((n / 2)) >"$RUN/in.csv"
  WPIDS=(0)
  for i in $(seq 1 "$reps"); do
    "${env[@]}" "$BIN/cxone-worker" -c "$RUN/w.conf" 2>"$RUN/w$i.log" &
    WPIDS+=($!)
    PIDS+=($!)
  done
  wait_until 90 assigned "$reps" || die "the workers got no partitions"
  t0=$(now)
  "$BIN/cxonectl" contacts import "$RUN/in.csv" --batch-id "b-$target-$reps" --quiet \
    >"$RUN/import.out" 2>"$RUN/import.log" || die "import exited $?"
  t1=$(now)
  # 20 updates/s for the seed target; the address-book target at least as fast
  wait_until $((n / LIMIT + 120)) sim_done_ge "$key" "$n" || die "the sim saw fewer than $n updates"
  wait_until 60 results_ge "$n" || die "fewer than $n outcomes"
  sim_stats >"$RUN/stats.json" || die "sim stats"
  python3 "$BENCH/batch.py" row "$target" "$reps" "$n" "$RUN" "$t0" "$t1" $LIMIT $BURST >>"$RES"
  python3 "$BENCH/batch.py" line <"$RES"
  stop_pids "${PIDS[@]}"
  rm -f "$RUN"/*.csv "$RUN/results.json"
}

STARTED=$SECONDS
log "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for reps in ${REPLICAS//,/ }; do
  for t in ${TARGETS//,/ }; do
    if [ "$t" = seed ]; then one_run seed "$reps" "$NSEED"; else one_run address-book "$reps" "$N"; fi
  done
done
commit=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$SRC" status --porcelain -- src include CMakeLists.txt 2>/dev/null)" ]; then
  commit="$commit (with uncommitted changes in src/include)"
fi
python3 -c 'import json, sys; print(json.dumps({"kind": "meta", "date": sys.argv[1], "commit": sys.argv[2], "duration_s": int(sys.argv[3]), "loadavg": sys.argv[4], "nproc": int(sys.argv[5]), "command": sys.argv[6]}))' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$commit" "$((SECONDS - STARTED))" \
  "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)" \
  "tests/bench/batch.sh --updates $N --seed-updates $NSEED --replicas $REPLICAS --targets $TARGETS --budget $BUDGET" >>"$RES"
cp "$RES" "${TMPDIR:-/tmp}/cxw-batchbench-last.jsonl"
echo
echo "================ results ================"
report "$RES"
log "raw measurements: ${TMPDIR:-/tmp}/cxw-batchbench-last.jsonl (tests/bench/batch.sh --report FILE to report them again)"
exit 0
