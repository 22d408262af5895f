#!/usr/bin/env bash
# The scaling benchmark of cxone-worker (not part of ctest): replicas joining
# and leaving a consumer group under load, on dev-kafka and cxone-sim.
#
#   tests/bench/scale.sh                   cases a-d, 3 runs each, both assignments
#   tests/bench/scale.sh --quick           a short version (a few minutes on 2 cores)
#   options: --replicas 1,2,4,8 (case a), --updates N (case a's backlog),
#            --cases a,b,c,d, --runs N, --assignment cooperative-sticky,eager,
#            --rate RPS (the budget of cases b-d), --partitions N, --no-build,
#            --restart-signal TERM|KILL (how case d stops the replica it restarts),
#            --build-dir DIR (default build-bench/, as tests/bench/run.sh),
#            --out FILE.md (writes the tables there; with docs/benchmarks.md,
#            only its scaling section is replaced), --keep (keep the work directory),
#            --report FILE.jsonl... (no measurement: the tables of saved measurements)
#
# Cases (docs/benchmarks.md, "Scaling", explains the figures):
#   a  all replicas start together on a backlog (no budget): updates/s with and
#      after the join, CPU per update, rebalance rounds
#   b  scale-out 2 -> 4 under load (budget --rate): time until every partition
#      is consumed again, rounds, updates/s before/during/after as a ratio to
#      the budget, lost, duplicates
#   c  scale-in 4 -> 2 under load: 2 replicas get SIGTERM at once; the same figures
#   d  one of 2 replicas restarted at once with kafka.static_membership (same
#      worker.id), stopped with SIGTERM (--restart-signal KILL: kill -9); the same
#      figures. dev-kafka ignores group.instance.id, so this shows the mock's
#      behaviour, not a real broker's.
#
# Only 127.0.0.1; every wait is bounded; every process started is stopped on exit.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ARGV="$*"
BENCH=$SRC/tests/bench
BUILD=$SRC/build-bench
BIN=$BUILD/bin

REPLICAS=
UPDATES=
CASES=a,b,c,d
RUNS=
ASSIGN=
RATE=300
PARTS=16
RESTART_SIG=TERM
QUICK=0
BUILD_IT=1
OUT=
KEEP=0
REPORT_FROM=()
while [ $# -gt 0 ]; do
  case $1 in
    --replicas) REPLICAS=${2:?--replicas needs a list, e.g. 1,2,4,8}; shift 2 ;;
    --updates) UPDATES=${2:?--updates needs a number}; shift 2 ;;
    --cases) CASES=${2:?--cases needs a list, e.g. b,c}; shift 2 ;;
    --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
    --assignment) ASSIGN=${2:?--assignment needs cooperative-sticky and/or eager}; shift 2 ;;
    --rate) RATE=${2:?--rate needs a number}; shift 2 ;;
    --restart-signal) RESTART_SIG=${2:?--restart-signal needs TERM or KILL}; shift 2 ;;
    --partitions) PARTS=${2:?--partitions needs a number}; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --no-build) BUILD_IT=0; shift ;;
    --out) OUT=${2:?--out needs a file}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --report) shift; REPORT_FROM=("$@"); [ ${#REPORT_FROM[@]} -gt 0 ] || { echo "scale.sh: --report needs files" >&2; exit 2; }; break ;;
    --build-dir) BUILD=$(cd "${2:?--build-dir needs a directory}" && pwd); BIN=$BUILD/bin; shift 2 ;;
    -h | --help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "scale.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
num() { case $2 in '' | *[!0-9]*) echo "scale.sh: $1 takes a positive number" >&2; exit 2 ;; esac; }
if [ $QUICK -eq 1 ]; then
  REPLICAS=${REPLICAS:-1,2,4}; UPDATES=${UPDATES:-20000}; RUNS=${RUNS:-1}
  ASSIGN=${ASSIGN:-cooperative-sticky}
else
  REPLICAS=${REPLICAS:-1,2,4,8}; UPDATES=${UPDATES:-60000}; RUNS=${RUNS:-3}
  ASSIGN=${ASSIGN:-cooperative-sticky,eager}
fi
num --updates "$UPDATES"; num --runs "$RUNS"; num --rate "$RATE"; num --partitions "$PARTS"
case ",$REPLICAS," in *[!0-9,]* | *,0,*) echo "scale.sh: --replicas takes numbers >= 1, e.g. 1,2,4,8" >&2; exit 2 ;; esac
case ",$CASES," in *[!abcd,]*) echo "scale.sh: --cases takes a,b,c,d" >&2; exit 2 ;; esac
for a in ${ASSIGN//,/ }; do
  case $a in cooperative-sticky | eager) ;; *) echo "scale.sh: --assignment: cooperative-sticky or eager" >&2; exit 2 ;; esac
done
case $RESTART_SIG in TERM | KILL) ;; *) echo "scale.sh: --restart-signal: TERM or KILL" >&2; exit 2 ;; esac
[ "$RATE" -ge 10 ] || { echo "scale.sh: --rate must be at least 10" >&2; exit 2; }
if [ "$UPDATES" -lt 1000 ] || [ "$UPDATES" -gt 2000000 ]; then
  echo "scale.sh: --updates must be 1000..2000000" >&2; exit 2
fi
if [ "$PARTS" -lt 4 ] || [ "$PARTS" -gt 256 ]; then
  echo "scale.sh: --partitions must be 4..256" >&2; exit 2
fi
for k in ${REPLICAS//,/ }; do
  [ "$k" -le 64 ] || { echo "scale.sh: --replicas: at most 64 per count" >&2; exit 2; }
done
[ "$RUNS" -ge 1 ] && [ "$RUNS" -le 20 ] || { echo "scale.sh: --runs must be 1..20" >&2; exit 2; }
want() { case ",$CASES," in *",$1,"*) return 0 ;; esac; return 1; }

A_LAT=2      # case a: the sim answers after 2 ms (as in the issue's figures)
BCD_LAT=20   # cases b-d: 20 ms, the budget is the limit
PRE=5        # seconds of steady load measured before a scale event
POST=5       # and after the assignment settled
SESSION_MS=6000

[ ${#REPORT_FROM[@]} -gt 0 ] && { BUILD_IT=0; CASES=; }
source "$BENCH/build.sh"
[ ${#REPORT_FROM[@]} -gt 0 ] || bench_build scale.sh
export PYTHONDONTWRITEBYTECODE=1 # scale.py is imported below: no __pycache__ in the tree

T=$(mktemp -d "${TMPDIR:-/tmp}/cxw-scale.XXXXXX")
RES=$T/results.jsonl
: >"$RES"
PIDS=()
export CXONE_CLIENT_ID=bench-client
CXONE_CLIENT_SECRET=bench-secret-$$-$RANDOM$RANDOM
export CXONE_CLIENT_SECRET
unset CXONE_RATE_LIMIT_RPS KAFKA_GROUP_ID CXONE_TOKEN_URL CXONE_WORKER_ADMIN_LISTEN CXONE_WORKER_ID || true

source "$BENCH/lib.sh"
now() { date +%s.%N; }



# ---- one fresh stack (dev-kafka, sim) per run
STACK=()
run_begin() { RUN=$T/$1; mkdir -p "$RUN"; STACK=(); LOGS=(); WPIDS=(); }
run_end() {
  local alive=() p
  for p in "${WPIDS[@]}" "${STACK[@]}"; do [ -n "$p" ] && alive+=("$p"); done
  [ ${#alive[@]} -gt 0 ] && stop_pids "${alive[@]}"
  rm -f "$RUN"/*.csv "$RUN"/*.json
}
start_kafka() {
  "$BIN/cxonectl" dev-kafka --partitions "$PARTS" >"$RUN/kafka.out" 2>"$RUN/kafka.txt" &
  PIDS+=($!); STACK+=($!)
  wait_until 30 grep -qs . "$RUN/kafka.out" || die "dev-kafka did not start"
  KAFKA_BOOTSTRAP_SERVERS=$(head -n 1 "$RUN/kafka.out")
  export KAFKA_BOOTSTRAP_SERVERS
}
start_sim() { # ARGS...
  "$BIN/cxone-sim" --listen 127.0.0.1:0 --client-id "$CXONE_CLIENT_ID" \
    --client-secret "$CXONE_CLIENT_SECRET" --log-level warn "$@" \
    >"$RUN/sim.out" 2>"$RUN/sim.txt" &
  PIDS+=($!); STACK+=($!)
  wait_until 20 grep -qs . "$RUN/sim.out" || die "cxone-sim did not start"
  CXONE_BASE_URL=$(head -n 1 "$RUN/sim.out")
  CXONE_BASE_URL=${CXONE_BASE_URL#listening on }
  export CXONE_BASE_URL
  case $CXONE_BASE_URL in http://127.0.0.1:*) ;; *) die "sim not on loopback: $CXONE_BASE_URL" ;; esac
}
write_conf() { # FILE ASSIGNMENT EXTRA-LIBCONFIG...
  local f=$1 asg=$2; shift 2
  cat >"$f" <<CONF
kafka = {
  consumer_properties = [ "session.timeout.ms=$SESSION_MS", "heartbeat.interval.ms=500" ];
  assignment = "$asg";
  $*
};
retry = { base_delay_ms = 50; max_delay_ms = 2000; };
worker = { shutdown_deadline_ms = 10000; log_level = "info"; };
CONF
}
append_conf() { printf '%s\n' "$2" >>"$1"; } # FILE LIBCONFIG

# start_worker NAME CONF [ENV=VALUE...]: a replica logging to $RUN/NAME.log;
# its index in LOGS/WPIDS is printed by no one: callers count.
LOGS=()
WPIDS=()
start_worker() {
  local name=$1 conf=$2; shift 2
  env "$@" "$BIN/cxone-worker" -c "$conf" 2>"$RUN/$name.log" &
  PIDS+=($!); WPIDS+=($!); LOGS+=("$RUN/$name.log")
}
# settled K: exactly K of the logs hold partitions and together all of them
settled() { python3 "$BENCH/scale.py" settled "$1" "${LOGS[@]}"; }
wait_settled() { # K WHAT
  wait_until 120 settled "$1" || die "$2: $1 replicas did not settle within 120 s"
}
sim_stats() { curl -fsS --max-time 10 "$CXONE_BASE_URL/_sim/stats"; }
cpu_of() { awk '{printf "%.2f\n", ($14 + $15) / '"$(getconf CLK_TCK)"'}' "/proc/$1/stat"; }
outcomes_n() { # distinct sources with an outcome (dumps the results topic)
  "$BIN/cxonectl" topic dump cxone.results >"$RUN/results.json" 2>>"$RUN/ctl.txt" || return 1
  python3 - "$RUN/results.json" <<'PY'
import json, sys
s = set()
for l in open(sys.argv[1]):
    try:
        o = json.loads(json.loads(l)["value"])["source"]
        s.add((o["partition"], o["offset"]))
    except (ValueError, KeyError, TypeError):
        pass
print(len(s))
PY
}
sim_applied() { sim_stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["contactsApplied"])'; }
# all_done N: every update has an outcome; the topic is dumped only once the
# sim has applied N (a dump per poll would compete with the replicas for CPU)
all_done() {
  local n
  n=$(sim_applied) || return 1
  [ "$n" -ge "$1" ] || return 1
  n=$(outcomes_n) || return 1
  [ "$n" -ge "$1" ] || { sleep 0.5; return 1; }
}
backlog() { # N
  python3 "$SRC/tests/integration/gen_contacts.py" "$1" "$1" >"$RUN/in.csv"
  "$BIN/cxonectl" contacts import "$RUN/in.csv" --batch-id "scale" --quiet \
    >"$RUN/import.out" 2>"$RUN/import.txt" || die "import exited $?"
}
collect() { # the topics and the sim's counters, once every update has an outcome
  "$BIN/cxonectl" topic dump cxone.contact-updates >"$RUN/source.json" 2>>"$RUN/ctl.txt" || die "topic dump"
  "$BIN/cxonectl" topic dump cxone.results >"$RUN/results.json" 2>>"$RUN/ctl.txt" || die "topic dump"
  sim_stats >"$RUN/stats.json" || die "sim stats"
}
show() {
  tail -n 1 "$RES" | python3 -c '
import json, sys
r = json.load(sys.stdin)
g = lambda k, s="{:.1f}": "-" if r.get(k) is None else s.format(r[k])
if r["case"] == "a":
    print("   %s updates/s with the join, %s after it; settled in %s s, %s rounds; CPU %s us/update; lost %d, applied twice %d"
          % (g("with_join_ups", "{:,.0f}"), g("steady_ups", "{:,.0f}"), g("settle_s"), r.get("rounds"), g("cpu_us_per_update"), r["lost"], r["applied_twice"]))
else:
    rt = r["rate"]
    q = lambda k: "-" if r.get(k) is None else "%.2f" % (r[k] / rt)
    print("   every partition consumed again after %s s, %d rounds, %d callbacks (%d on replicas that stay, which held none for %s s), %s partition-s unowned; ratio to budget %s before, %s during, %s after; lost %d, duplicate outcomes %d, applied twice %d, failed revoke commits %d"
          % (g("settle_s"), r["rounds"], r["callbacks"], r["staying_callbacks"], g("staying_zero_s", "{:.2f}"), g("unowned_partition_s"), q("pre_ups"), q("event_ups"), q("post_ups"), r["lost"], r["dup_outcomes"], r["applied_twice"], r["failed_revoke_commits"]))
' >&2
}

# ---- case a: K replicas start together on a backlog
case_a() { # ASSIGNMENT K RUN
  local asg=$1 k=$2 runno=$3 t0 ts ta tb i cpus=() idle=() pids
  run_begin "a-$asg-$k-$runno"
  log "case a ($asg): $k replica(s) start together on $UPDATES updates, sim latency $A_LAT ms, run $runno"
  start_kafka
  start_sim --latency-ms "$A_LAT"
  write_conf "$RUN/w.conf" "$asg"
  append_conf "$RUN/w.conf" "rate = { rps = 0.0; };"
  backlog "$UPDATES"
  t0=$(now)
  for i in $(seq 1 "$k"); do start_worker "w$i" "$RUN/w.conf"; done
  wait_settled "$k" "case a"
  ts=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import scale
print(max([e[0] for p in sys.argv[2:] for e in scale.read_log(p)[0]] or [0]))' "$BENCH" "${LOGS[@]}")
  wait_until $((UPDATES / 200 + 120)) all_done "$UPDATES" || die "not every update got an outcome"
  # CPU at the end of the work, then 2 s later: what an idle replica burns
  ta=$(now)
  for i in "${WPIDS[@]}"; do cpus+=("$(cpu_of "$i")"); done
  sleep 2
  tb=$(now)
  for i in "${WPIDS[@]}"; do idle+=("$(cpu_of "$i")"); done
  pids=("${WPIDS[@]}")
  stop_pids "${pids[@]}"
  WPIDS=()
  collect
  python3 "$BENCH/scale.py" measure --case a --assignment "$asg" --run "$runno" --replicas "$k" \
    --updates "$UPDATES" --source "$RUN/source.json" --results "$RUN/results.json" \
    --sim "$RUN/stats.json" --logs "${LOGS[@]}" --cpu "${cpus[@]}" \
    --cpu-later "${idle[@]}" --t-cpu "$ta" --t-cpu-later "$tb" \
    --t-start "$t0" --t-settle "$ts" >>"$RES"
  show
  run_end
}

# ---- cases b, c, d: a scale event under a steady load at the budget
# the backlog lasts the join, PRE, the event (~10-15 s on dev-kafka), POST and a margin
BCD_N=$((RATE * 45))

steady_start() { # ASSIGNMENT K WHAT [EXTRA-KAFKA-LIBCONFIG] [ENV...]: K replicas, settled, PRE s of load
  local asg=$1 k=$2 what=$3 extra=${4:-} i
  shift 4
  start_kafka
  start_sim --latency-ms "$BCD_LAT"
  write_conf "$RUN/w.conf" "$asg" "$extra"
  append_conf "$RUN/w.conf" "rate = { rps = $RATE.0; burst = 20; };"
  backlog "$BCD_N"
  T_START=$(now)
  for i in $(seq 1 "$k"); do start_worker "w$i" "$RUN/w.conf" "$@" CXONE_WORKER_ID="bench-w$i"; done
  wait_settled "$k" "$what"
  sleep "$PRE"
}
steady_finish() { # CASE ASSIGNMENT REPLICAS RUN STAYING T_EVENT T_SETTLE
  local pids
  sleep "$POST"
  wait_until $((BCD_N / RATE * 3 + 60)) all_done "$BCD_N" || die "case $1: not every update got an outcome"
  pids=()
  for p in "${WPIDS[@]}"; do [ -n "$p" ] && pids+=("$p"); done
  stop_pids "${pids[@]}"
  WPIDS=()
  collect
  python3 "$BENCH/scale.py" measure --case "$1" --assignment "$2" --run "$4" --replicas "$3" \
    --updates "$BCD_N" --rate "$RATE" --source "$RUN/source.json" --results "$RUN/results.json" \
    --sim "$RUN/stats.json" --logs "${LOGS[@]}" --staying "$5" \
    --t-start "$T_START" --t-event "$6" --t-settle "$7" --pre "$PRE" --post "$POST" >>"$RES"
  show
}

case_b() { # ASSIGNMENT RUN
  local asg=$1 runno=$2 te ts
  run_begin "b-$asg-$runno"
  log "case b ($asg): scale-out 2 -> 4 under a load of $RATE/s, run $runno"
  steady_start "$asg" 2 "case b" ""
  te=$(now)
  start_worker w3 "$RUN/w.conf" CXONE_WORKER_ID=bench-w3
  start_worker w4 "$RUN/w.conf" CXONE_WORKER_ID=bench-w4
  wait_settled 4 "case b"
  ts=$(now)
  steady_finish b "$asg" "2>4" "$runno" 0,1 "$te" "$ts"
  run_end
}

case_c() { # ASSIGNMENT RUN
  local asg=$1 runno=$2 te ts
  run_begin "c-$asg-$runno"
  log "case c ($asg): scale-in 4 -> 2 under a load of $RATE/s (SIGTERM), run $runno"
  steady_start "$asg" 4 "case c" ""
  te=$(now)
  stop_pids "${WPIDS[2]}" "${WPIDS[3]}"
  WPIDS[2]=""; WPIDS[3]=""
  wait_settled 2 "case c"
  ts=$(now)
  steady_finish c "$asg" "4>2" "$runno" 0,1 "$te" "$ts"
  run_end
}

case_d() { # ASSIGNMENT RUN
  local asg=$1 runno=$2 te ts
  run_begin "d-$asg-$runno"
  log "case d ($asg): one of 2 static members restarted (SIG$RESTART_SIG) under a load of $RATE/s, run $runno"
  steady_start "$asg" 2 "case d" "static_membership = true;"
  grep -q "static member 'bench-w2'" "$RUN/w2.log" || die "w2 is not a static member"
  te=$(now)
  if [ "$RESTART_SIG" = KILL ]; then
    kill -KILL "${WPIDS[1]}"
    wait "${WPIDS[1]}" 2>/dev/null || true
    untrack "${WPIDS[1]}"
    # it could not log that it holds nothing now: scale.py reads this line
    printf '{"time":"%s","msg":"bench: killed with SIGKILL"}\n' \
      "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" >>"$RUN/w2.log"
  else
    stop_pids "${WPIDS[1]}"
  fi
  WPIDS[1]=""
  start_worker w2-restarted "$RUN/w.conf" CXONE_WORKER_ID=bench-w2
  wait_settled 2 "case d"
  ts=$(now)
  steady_finish d "$asg" "2 (1 restarted, SIG$RESTART_SIG)" "$runno" 0 "$te" "$ts"
  run_end
}

# ---- run
STARTED=$SECONDS
[ ${#REPORT_FROM[@]} -gt 0 ] && cat "${REPORT_FROM[@]}" >"$RES"
for asg in ${ASSIGN//,/ }; do
  if want a; then
    for k in ${REPLICAS//,/ }; do
      for i in $(seq 1 "$RUNS"); do case_a "$asg" "$k" "$i"; done
    done
  fi
  for c in b c d; do
    want $c || continue
    for i in $(seq 1 "$RUNS"); do "case_$c" "$asg" "$i"; done
  done
done
if [ ${#REPORT_FROM[@]} -eq 0 ]; then
  log "measurements done in $((SECONDS - STARTED)) s"
  commit=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
  [ -z "$(git -C "$SRC" status --porcelain -- src include 2>/dev/null)" ] ||
    commit="$commit (with uncommitted changes in src/include)"
  python3 -c 'import json, sys; print(json.dumps({"case": "meta", "date": sys.argv[1], "commit": sys.argv[2], "nproc": sys.argv[3], "load": sys.argv[4], "duration_s": int(sys.argv[5]), "command": sys.argv[6]}))' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$commit" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
    "$((SECONDS - STARTED))" "tests/bench/scale.sh${ARGV:+ $ARGV}" >>"$RES"
fi

echo
echo "================ scaling results ================"
meta=("a_latency=$A_LAT" "bcd_latency=$BCD_LAT")
python3 "$BENCH/scale.py" report "$RES" --md "$T/scale.md" --meta "${meta[@]}"
[ ${#REPORT_FROM[@]} -gt 0 ] || cp "$RES" "${TMPDIR:-/tmp}/cxw-scale-last.jsonl"
if [ -n "$OUT" ]; then
  python3 "$BENCH/scale.py" section "$T/scale.md" "$OUT"
  log "tables written to $OUT"
fi
log "raw measurements: ${TMPDIR:-/tmp}/cxw-scale-last.jsonl"
exit 0
