#!/usr/bin/env bash
# The worker killed with SIGKILL mid-run and started again: every request
# still gets an outcome (duplicates allowed, losses not), none failed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start_kafka 6
start_sim --latency-ms 20
write_worker_conf "$T/w.conf" 'rate = { rps = 0.0; }; http = { max_in_flight = 16; };'

python3 "$CXW_SRC/tests/integration/gen_contacts.py" 4000 4000 k >"$T/k.csv"
"$CXW_BIN/cxonectl" contacts import "$T/k.csv" --batch-id kill9 >"$T/import.out" 2>"$T/import.log" \
  || fail "import failed"

start_worker w1 "$T/w.conf"
wait_until 60 applied_at_least 800 || fail "the first worker made no progress"
kill -KILL "$LAST_PID"
log "worker killed with SIGKILL"
before=$(applied)
[ "$before" -lt 4000 ] || fail "the worker finished before it was killed; the test proves nothing"

start_worker w2 "$T/w.conf"
W2=$LAST_PID
wait_until 180 outcomes_for 4000 kill9 || fail "not every request got an outcome after the restart"
stop_pid "$W2" 30 || fail "second worker did not exit 0"

dump_topic cxone.contact-updates "$T/src.json"
dump_topic cxone.results "$T/res.json"
check outcomes --source "$T/src.json" --results "$T/res.json" --max-failed 0 --max-rejected 0
check contacts --source "$T/src.json" --results "$T/res.json" --sim "$CXONE_BASE_URL"
log "PASS (applied before the kill: $before)"
