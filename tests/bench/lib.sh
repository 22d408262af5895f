# shellcheck shell=bash
# Shared by the benchmark scripts (run.sh, scale.sh, tls.sh, batch.sh, eos.sh),
# sourced after they set T (the work directory), KEEP (1 = keep it) and
# PIDS=() (the children to stop on exit); RUN names the current run's
# directory, whose *.log files die() shows.

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# untrack PID...: forget PIDs (they were stopped or reaped elsewhere), in
# PIDS and in the current run's RUN_PIDS.
RUN_PIDS=()
untrack() {
  local p q keep
  for q in "$@"; do
    keep=()
    for p in "${PIDS[@]}"; do [ "$p" = "$q" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
    keep=()
    for p in "${RUN_PIDS[@]}"; do [ "$p" = "$q" ] || keep+=("$p"); done
    RUN_PIDS=("${keep[@]}")
  done
}

# stop_pids PID...: SIGTERM, wait up to 15 s each, then SIGKILL; reaps and
# untracks them. Only children of the script are passed here.
stop_pids() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  untrack "$@"
}

cleanup() {
  local rc=$?
  trap - INT TERM
  [ ${#PIDS[@]} -gt 0 ] && stop_pids "${PIDS[@]}"
  if [ $rc -ne 0 ] || [ "$KEEP" -eq 1 ]; then log "work directory kept: $T"; else rm -rf "$T"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_until SECONDS CMD...: CMD every 0.2 s until it succeeds; 1 on timeout.
wait_until() {
  local secs=$1; shift
  local end=$((SECONDS + secs))
  while [ $SECONDS -lt $end ]; do
    if "$@"; then return 0; fi
    sleep 0.2
  done
  return 1
}

RUN=
# die MESSAGE: says it, shows the end of the current run's logs, exits 1.
die() {
  log "FAILED: $*"
  local f
  for f in "$RUN"/*.log; do [ -f "$f" ] && { echo "---- $f" >&2; tail -n 15 "$f" >&2; }; done
  exit 1
}

# ==== run.sh's measurement stack and its runs of scenarios 1-3, also used by
# eos.sh. The caller sets BIN, BENCH, SRC, RES (the results .jsonl), PARTS,
# SIM_RPS, SIM_BURST, S1_LAT and S3_N (tests/bench/run.sh, "sizes"). Hooks,
# all optional:
#   RUN_SUFFIX        appended to every run directory's name (variants of a run)
#   WORKER_LOG_LEVEL  the workers' worker.log_level (default info)
#   AFTER_RUN         a function run_end calls first, while the run's dev-kafka
#                     and sim still run and its dumps are still in $RUN
# The workers read the environment as always (e.g. KAFKA_EXACTLY_ONCE).

# ---- one stack per measurement: fresh dev-kafka and sim, so nothing carries over
run_begin() { # NAME
  RUN=$T/$1${RUN_SUFFIX:-}
  mkdir -p "$RUN"
  RUN_PIDS=()
}
run_end() {
  [ -z "${AFTER_RUN:-}" ] || "$AFTER_RUN" # the caller's own measurements, the stack still up
  if [ ${#RUN_PIDS[@]} -gt 0 ]; then stop_pids "${RUN_PIDS[@]}"; fi
  RUN_PIDS=()
  # the big inputs and dumps are not needed once measured
  rm -f "$RUN"/*.csv "$RUN"/results.json "$RUN"/audit.json
}
track() { PIDS+=("$1"); RUN_PIDS+=("$1"); }

# Each empties its output file first: a run directory used again (eos.sh
# --runs) must not hand the last run's address to this one.
start_kafka() {
  : >"$RUN/kafka.out"
  "$BIN/cxonectl" dev-kafka --partitions "$PARTS" >"$RUN/kafka.out" 2>"$RUN/kafka.log" &
  track $!
  wait_until 30 grep -qs . "$RUN/kafka.out" || die "dev-kafka did not start"
  KAFKA_BOOTSTRAP_SERVERS=$(head -n 1 "$RUN/kafka.out")
  export KAFKA_BOOTSTRAP_SERVERS
}

start_sim() { # ARGS...
  : >"$RUN/sim.out"
  "$BIN/cxone-sim" --listen 127.0.0.1:0 --client-id "$CXONE_CLIENT_ID" \
    --client-secret "$CXONE_CLIENT_SECRET" --log-level warn ${BENCH_SIM_ARGS:-} "$@" \
    >"$RUN/sim.out" 2>"$RUN/sim.log" &
  SIM_PID=$!
  track $SIM_PID
  wait_until 20 grep -qs . "$RUN/sim.out" || die "cxone-sim did not start"
  CXONE_BASE_URL=$(head -n 1 "$RUN/sim.out")
  CXONE_BASE_URL=${CXONE_BASE_URL#listening on }
  export CXONE_BASE_URL
  case $CXONE_BASE_URL in http://127.0.0.1:*) ;; *) die "sim not on loopback: $CXONE_BASE_URL" ;; esac
}

write_conf() { # FILE EXTRA-LIBCONFIG...
  local f=$1; shift
  cat >"$f" <<CONF
kafka = {
  consumer_properties = [ "session.timeout.ms=6000", "heartbeat.interval.ms=500" ];
};
retry = { base_delay_ms = 50; max_delay_ms = 2000; };
worker = { shutdown_deadline_ms = 10000; log_level = "${WORKER_LOG_LEVEL:-info}"; };
$*
CONF
}

WORKERS=()
WPREFIX=w
start_workers() { # COUNT CONF [LOG-PREFIX]: logs $RUN/<prefix><n>.log
  local i
  WORKERS=()
  WPREFIX=${3:-w}
  for i in $(seq 1 "$1"); do
    "$BIN/cxone-worker" -c "$2" 2>"$RUN/$WPREFIX$i.log" &
    track $!
    WORKERS+=($!)
  done
}
worker_logs() { local i; for i in $(seq 1 ${#WORKERS[@]}); do echo "$RUN/$WPREFIX$i.log"; done; }
all_assigned() {
  local pid
  for pid in "${WORKERS[@]}"; do kill -0 "$pid" 2>/dev/null || die "worker $pid exited"; done
  # shellcheck disable=SC2046
  python3 "$BENCH/bench.py" shares $(worker_logs) --partitions "$PARTS"
}
wait_assigned() {
  wait_until 90 all_assigned || die "replicas did not get all partitions within 90 s"
  sleep 0.3
  all_assigned || wait_until 60 all_assigned || die "assignment did not settle"
}

sim_stats() { curl -fsS --max-time 10 "$CXONE_BASE_URL/_sim/stats"; }
sim_applied() { sim_stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["contactsApplied"])'; }
sim_applied_ge() { local a; a=$(sim_applied) || return 1; [ "$a" -ge "$1" ]; }
cpu_of() { awk '{printf "%.2f\n", ($14 + $15) / '"$(getconf CLK_TCK)"'}' "/proc/$1/stat"; }
vm_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

gen_csv() { # N CONTACTS FILE
  python3 "$SRC/tests/integration/gen_contacts.py" "$1" "$2" >"$3"
}
import_csv() { # FILE BATCH [--wait ...]
  local f=$1 b=$2; shift 2
  "$BIN/cxonectl" contacts import "$f" --batch-id "$b" --quiet "$@" \
    >"$RUN/import.out" 2>"$RUN/import.log"
}

# finish_rate_run SCENARIO REPLICAS UPDATES BUDGET_RPS RUN_NO WALL
finish_rate_run() {
  local sc=$1 rep=$2 n=$3 budget=$4 runno=$5 wall=$6
  sim_stats >"$RUN/stats.json" || die "sim stats"
  stop_pids "${WORKERS[@]}"
  # shellcheck disable=SC2046
  python3 "$BENCH/bench.py" stopped $(worker_logs) >"$RUN/stopped.json"
  "$BIN/cxonectl" topic dump cxone.results >"$RUN/results.json" 2>>"$RUN/ctl.log" || die "topic dump"
  "$BIN/cxonectl" topic dump cxone.audit >"$RUN/audit.json" 2>>"$RUN/ctl.log" || die "topic dump"
  python3 "$BENCH/bench.py" span "$RUN/results.json" >"$RUN/span.json"
  python3 "$BENCH/bench.py" simstats "$RUN/stats.json" >"$RUN/sim.json"
  python3 "$BENCH/bench.py" skew "$RUN/audit.json" "$SIM_RPS" "$PARTS" >"$RUN/skew.json"
  python3 - "$RUN" "$sc" "$rep" "$n" "$budget" "$runno" "$wall" "$SIM_RPS" "$SIM_BURST" \
    "$S1_LAT" >>"$RES" <<'PY'
import json, sys
d, sc, rep, n, budget, runno, wall, sim_rps, sim_burst, lat = sys.argv[1:]
span = json.load(open(d + "/span.json")); sim = json.load(open(d + "/sim.json"))
st = json.load(open(d + "/stopped.json")); sk = json.load(open(d + "/skew.json"))
n = int(n); ideal = n / float(sim_rps)
el = span.get("span_s")
api = sim["api_requests"]
print(json.dumps({
    "scenario": int(sc), "replicas": int(rep), "run": int(runno), "updates": n,
    "budget_rps": float(budget), "budget_burst": 20, "sim_rps": float(sim_rps),
    "sim_burst": int(sim_burst), "latency_ms": int(lat), "ideal_s": ideal,
    "elapsed_s": el, "wall_s": float(wall), "skew_ideal_s": sk["skew_ideal_s"],
    "replica_loads": sk["replica_loads"],
    "util_pct": 100.0 * ideal / el if el else None,
    "outcomes": span["outcomes"], "statuses": span["statuses"],
    "succeeded": span["statuses"].get("succeeded", 0),
    "failed": span["statuses"].get("failed", 0) + (n - span["outcomes"]),
    "api_requests": api, "r429": sim["rate_limited"],
    "share429_pct": 100.0 * sim["rate_limited"] / api if api else None,
    "retries": st["retries"], "worker_429": st["r429"],
    "workers_reporting": st["workers_reporting"], "consumed": st["consumed"]}))
PY
  tail -n 1 "$RES" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("   elapsed %.2f s (ideal %.1f, %.2f with the partition skew), utilization %.1f%%, 429s %d of %d requests (%.2f%%), failed %d" % (r["elapsed_s"] or 0, r["ideal_s"], r["skew_ideal_s"] or 0, r["util_pct"] or 0, r["r429"], r["api_requests"], r["share429_pct"] or 0, r["failed"]))' >&2
}

# rate_run SCENARIO REPLICAS UPDATES BUDGET_RPS RUN_NO
rate_run() {
  local sc=$1 rep=$2 n=$3 budget=$4 runno=$5 t0 t1 rc=0
  run_begin "s$sc-r$rep-$runno"
  log "scenario $sc: $rep replica(s), $n updates, budget $budget/s, sim $SIM_RPS/s, run $runno"
  start_kafka
  start_sim --rate-limit "$SIM_RPS" --burst "$SIM_BURST" --latency-ms "$S1_LAT"
  write_conf "$RUN/w.conf" "rate = { rps = $budget; burst = $SIM_BURST; };"
  start_workers "$rep" "$RUN/w.conf"
  wait_assigned
  gen_csv "$n" "$n" "$RUN/in.csv"
  t0=$(date +%s.%N)
  import_csv "$RUN/in.csv" "b$sc-$rep-$runno" --wait --timeout $((n / 50 + 120)) || rc=$?
  t1=$(date +%s.%N)
  [ $rc -eq 0 ] || [ $rc -eq 3 ] || die "import --wait exited $rc"
  finish_rate_run "$sc" "$rep" "$n" "$budget" "$runno" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
  run_end
}

# ---- scenario 3: unlimited
unlimited_run() { # IN_FLIGHT [EXTRA-CONSUMER-PROPERTY]: the property makes a diagnostic variant
  local c=$1 extra=${2:-} n=$S3_N w cpu0 cpu1 hwm props
  run_begin "s3-c$c${extra:+-variant}"
  log "scenario 3: worker, $n updates from a backlog, max_in_flight $c, sim unlimited${extra:+, consumer $extra}"
  start_kafka
  start_sim
  gen_csv "$n" "$n" "$RUN/in.csv"
  import_csv "$RUN/in.csv" "b3-$c" || die "import exited $?"
  props='"session.timeout.ms=6000", "heartbeat.interval.ms=500"'
  [ -n "$extra" ] && props="$props, \"$extra\""
  cat >"$RUN/w.conf" <<CONF
kafka = { consumer_properties = [ $props ]; };
worker = { shutdown_deadline_ms = 10000; log_level = "${WORKER_LOG_LEVEL:-info}"; };
rate = { rps = 0.0; };
http = { max_in_flight = $c; };
CONF
  start_workers 1 "$RUN/w.conf"
  w=${WORKERS[0]}
  wait_until 90 all_assigned || die "worker got no partitions"
  cpu0=$(cpu_of "$w")
  wait_until $((n / 500 + 60)) sim_applied_ge "$n" || die "sim saw fewer than $n updates"
  sleep 1 # the last outcomes and commits
  cpu1=$(cpu_of "$w")
  hwm=$(vm_kib "$w" VmHWM)
  sim_stats >"$RUN/stats.json"
  stop_pids "$w"
  python3 "$BENCH/bench.py" stopped "$RUN/w1.log" >"$RUN/stopped.json"
  "$BIN/cxonectl" topic dump cxone.results >"$RUN/results.json" 2>>"$RUN/ctl.log" || die "topic dump"
  python3 "$BENCH/bench.py" span "$RUN/results.json" >"$RUN/span.json"
  python3 "$BENCH/bench.py" simstats "$RUN/stats.json" >"$RUN/sim.json"
  python3 - "$RUN" "$c" "$n" "$cpu0" "$cpu1" "$hwm" "$extra" >>"$RES" <<'PY'
import json, sys
d, c, n, cpu0, cpu1, hwm, extra = sys.argv[1:]
span = json.load(open(d + "/span.json")); sim = json.load(open(d + "/sim.json"))
n = int(n); cpu = float(cpu1) - float(cpu0); el = span.get("span_s")
print(json.dumps({
    "scenario": 3, "kind": "worker", "in_flight": int(c), "updates": n, "variant": extra,
    "outcomes": span["outcomes"], "statuses": span["statuses"], "elapsed_s": el,
    "updates_per_s": span["outcomes"] / el if el else None, "cpu_s": cpu,
    "cpu_us_per_update": cpu * 1e6 / n, "hwm_mib": int(hwm) / 1024.0,
    "max_concurrency": sim["max_concurrency"], "api_requests": sim["api_requests"]}))
PY
  tail -n 1 "$RES" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("   %d outcomes in %.2f s = %.0f updates/s, worker CPU %.1f us/update, VmHWM %.1f MiB" % (r["outcomes"], r["elapsed_s"] or 0, r["updates_per_s"] or 0, r["cpu_us_per_update"], r["hwm_mib"]))' >&2
  run_end
}
