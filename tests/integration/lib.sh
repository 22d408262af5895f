# Shared by the integration tests: start dev-kafka, cxone-sim and workers on
# loopback, wait for things with bounded waits, clean up on exit.
# Source it after `set -euo pipefail`. Needs CXW_BIN (ctest sets it).

: "${CXW_BIN:?CXW_BIN must point at build/bin}"
: "${CXW_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
T=$(mktemp -d "${TMPDIR:-/tmp}/cxw-it.XXXXXX")
PIDS=()
export CXONE_CLIENT_ID=test-client
export CXONE_CLIENT_SECRET=test-secret-$$-do-not-log

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() {
  log "FAIL: $*"
  for f in "$T"/*.log; do
    [ -f "$f" ] || continue
    echo "---- last lines of $f" >&2
    tail -n 25 "$f" >&2
  done
  exit 1
}

cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  # A sanitizer build reports at exit (leaks) or on the spot: either fails the test.
  if grep -l -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*.log 2>/dev/null; then
    log "FAIL: a sanitizer reported an error (files above)"
    grep -h -A 30 -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*.log | head -80 >&2
    rc=1
  fi
  if [ $rc -eq 0 ] && [ -z "${KEEP_TMP:-}" ]; then rm -rf "$T"; else log "artifacts kept in $T"; fi
  exit $rc
}
trap cleanup EXIT

# wait_until SECONDS CMD...: runs CMD every 0.2 s until it succeeds or time runs out.
wait_until() {
  local secs=$1; shift
  local end=$((SECONDS + secs))
  while [ $SECONDS -lt $end ]; do
    if "$@"; then return 0; fi
    sleep 0.2
  done
  return 1
}

# first_line FILE SECONDS: waits for FILE to have a complete first line, prints it.
first_line() {
  local f=$1 secs=$2
  wait_until "$secs" grep -q . "$f" || return 1
  head -n 1 "$f"
}

# start_kafka [PARTITIONS]: dev-kafka on loopback; exports KAFKA_BOOTSTRAP_SERVERS.
start_kafka() {
  local parts=${1:-6}
  : >"$T/kafka.out" # emptied before, as in start_sim
  "$CXW_BIN/cxonectl" dev-kafka --partitions "$parts" >>"$T/kafka.out" 2>"$T/kafka.log" &
  PIDS+=($!)
  KAFKA_BOOTSTRAP_SERVERS=$(first_line "$T/kafka.out" 30) || fail "dev-kafka did not start"
  export KAFKA_BOOTSTRAP_SERVERS
  log "dev-kafka at $KAFKA_BOOTSTRAP_SERVERS ($parts partitions)"
}

# start_kafka_ctl [PARTITIONS]: like start_kafka, with fault control: kafka_ctl
# LINE sends a control line (see `cxonectl dev-kafka --help`) and waits for
# its "ok:" answer.
start_kafka_ctl() {
  local parts=${1:-6}
  mkfifo "$T/kafka.ctl"
  : >"$T/kafka.out"
  "$CXW_BIN/cxonectl" dev-kafka --partitions "$parts" --control <"$T/kafka.ctl" \
    >>"$T/kafka.out" 2>"$T/kafka.log" &
  PIDS+=($!)
  exec 9>"$T/kafka.ctl" # held open: dev-kafka reads control lines until it closes
  KAFKA_BOOTSTRAP_SERVERS=$(first_line "$T/kafka.out" 30) || fail "dev-kafka did not start"
  export KAFKA_BOOTSTRAP_SERVERS
  log "dev-kafka at $KAFKA_BOOTSTRAP_SERVERS ($parts partitions, under control)"
}
kafka_ctl() {
  local n
  n=$(grep -c '^ok: ' "$T/kafka.out" || true)
  echo "$*" >&9
  wait_until 10 eval "[ \$(grep -c '^ok: ' '$T/kafka.out') -gt $n ]" || fail "dev-kafka did not take '$*'"
  log "dev-kafka: $*"
}

# start_sim [ARGS...]: cxone-sim on a free loopback port; exports CXONE_BASE_URL.
start_sim() {
  # Emptied here, not by the background child's redirection, so a second sim
  # in the same test never shows the first one's line.
  : >"$T/sim.out"
  "$CXW_BIN/cxone-sim" --listen 127.0.0.1:0 --client-id "$CXONE_CLIENT_ID" \
    --client-secret "$CXONE_CLIENT_SECRET" "$@" >>"$T/sim.out" 2>"$T/sim.log" &
  SIM_PID=$!
  PIDS+=($SIM_PID)
  local line
  line=$(first_line "$T/sim.out" 20) || fail "cxone-sim did not start"
  CXONE_BASE_URL=${line#listening on }
  export CXONE_BASE_URL
  log "cxone-sim at $CXONE_BASE_URL $*"
}

# write_worker_conf FILE [EXTRA LIBCONFIG TEXT]: a worker config for tests.
# Short session timeout so a killed member leaves the group quickly; a base
# group (kafka, retry, worker) is left out when EXTRA brings its own.
write_worker_conf() {
  local f=$1; shift
  local extra="$*"
  {
    [[ "$extra" == *"kafka ="* ]] ||
      echo 'kafka = { consumer_properties = [ "session.timeout.ms=6000", "heartbeat.interval.ms=500" ]; };'
    [[ "$extra" == *"retry ="* ]] || echo 'retry = { base_delay_ms = 50; max_delay_ms = 2000; };'
    [[ "$extra" == *"worker ="* ]] || echo 'worker = { shutdown_deadline_ms = 10000; log_level = "info"; };'
    echo "$extra"
  } >"$f"
}

# start_worker NAME CONF [WRAPPER...]: a replica, stderr to $T/NAME.log; sets LAST_PID.
start_worker() {
  local name=$1 conf=$2; shift 2
  "$@" "$CXW_BIN/cxone-worker" -c "$conf" 2>"$T/$name.log" &
  LAST_PID=$!
  PIDS+=($LAST_PID)
  log "worker $name started (pid $LAST_PID)"
}

# stop_pid PID [SECONDS]: SIGTERM and wait; returns the exit status.
stop_pid() {
  local pid=$1 secs=${2:-30} rc=0
  kill -TERM "$pid" 2>/dev/null || return 0
  local end=$((SECONDS + secs))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not stop within $secs s"
    kill -KILL "$pid"
    return 124
  fi
  wait "$pid" || rc=$?
  return $rc
}

sim_get() { curl -fsS --max-time 10 "$CXONE_BASE_URL$1"; }

# dump_topic TOPIC FILE: every message of TOPIC as JSON lines.
dump_topic() {
  "$CXW_BIN/cxonectl" topic dump "$1" >"$2" 2>>"$T/ctl.log"
}

check() { python3 "$CXW_SRC/tests/integration/check.py" "$@"; }

# applied: how many contact updates the simulator has applied so far.
applied() { sim_get /_sim/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["contactsApplied"])'; }

# applied_at_least N: the simulator has applied N contact updates or more.
applied_at_least() { [ "$(applied)" -ge "$1" ]; }

# outcomes_for N BATCH: the results topic holds an outcome for N distinct
# source offsets of batch BATCH (dumped to $T/res.json), duplicates aside.
outcomes_for() {
  dump_topic cxone.results "$T/res.json"
  python3 - "$T/res.json" "$1" "$2" <<'PY'
import json, sys
srcs = set()
for line in open(sys.argv[1]):
    v = json.loads(json.loads(line)["value"])
    if v.get("batchId") == sys.argv[3]:
        srcs.add((v["source"]["partition"], v["source"]["offset"]))
sys.exit(0 if len(srcs) >= int(sys.argv[2]) else 1)
PY
}

# gen_updates N PREFIX: N contact updates for kproduce, one per contact
# PREFIX-00000..: "key<TAB>json" lines.
gen_updates() {
  python3 - "$1" "$2" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    c = f"{sys.argv[2]}-{i:05d}"
    print(c + "\t" + json.dumps({"contactId": c, "firstName": "F", "lastName": str(i)}))
PY
}

# token_args: "--secret TOKEN" for each access token the simulator issued
# lately, so that `check nosecret` looks for them too.
token_args() {
  sim_get /_sim/tokens | python3 -c 'import json,sys
for t in json.load(sys.stdin)["issued"]: print("--secret", t)'
}
