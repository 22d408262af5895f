#!/usr/bin/env bash
# The worker under valgrind through a short run with retries (5xx, dropped
# connections, short-lived tokens) and a SIGTERM stop: no leak that valgrind
# calls definite, no invalid memory access, exit 0.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || fail "valgrind is not installed (scripts/install-deps.sh installs it)"

start_kafka 3
start_sim --error-rate 0.1 --drop-rate 0.02 --token-ttl 2 --seed 3
write_worker_conf "$T/w.conf" 'token = { min_refresh_interval_ms = 1000; }; rate = { rps = 0.0; }; http = { max_in_flight = 8; };'
start_worker vg "$T/w.conf" valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite \
  --error-exitcode=99 --log-file="$T/valgrind.txt"
W=$LAST_PID

python3 "$CXW_SRC/tests/integration/gen_contacts.py" 200 150 v >"$T/v.csv"
(printf 'contactId,firstName\n'; echo 'v-bad,') >"$T/bad.csv"
"$CXW_BIN/cxonectl" contacts import "$T/v.csv" --batch-id vg --wait --timeout 240 >"$T/import.out" 2>"$T/import.log" \
  || fail "import --wait: $(cat "$T/import.out")"
rc=0
"$CXW_BIN/cxonectl" contacts import "$T/bad.csv" --batch-id vgbad --wait --timeout 120 >"$T/import2.out" 2>"$T/import2.log" || rc=$?
[ $rc -eq 3 ] || fail "a rejected row should end import --wait with 3, got $rc"
rc=0
stop_pid "$W" 60 || rc=$?
cat "$T/valgrind.txt" >&2 || true
[ $rc -eq 0 ] || fail "worker under valgrind exited $rc (99 = valgrind found errors)"
log "PASS"
