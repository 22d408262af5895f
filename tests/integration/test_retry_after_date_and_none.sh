#!/usr/bin/env bash
# ctest-label: asan
# 429s answered with Retry-After as an HTTP date, and with no Retry-After at
# all, against a worker whose budget is set 5x above the simulator's limit:
# zero failed, zero lost, and the worker did see 429s (the test is not
# vacuous).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

for mode in date none; do
  start_kafka 3
  start_sim --rate-limit 150 --burst 5 --retry-after "$mode"
  write_worker_conf "$T/w-$mode.conf" 'rate = { rps = 750.0; burst = 50; };'
  start_worker "w-$mode" "$T/w-$mode.conf"
  W=$LAST_PID
  python3 "$CXW_SRC/tests/integration/gen_contacts.py" 900 900 "$mode" >"$T/$mode.csv"
  rc=0
  "$CXW_BIN/cxonectl" contacts import "$T/$mode.csv" --batch-id "ra-$mode" --wait --timeout 180 \
    >"$T/import-$mode.out" 2>"$T/import-$mode.log" || rc=$?
  cat "$T/import-$mode.out" >&2
  [ $rc -eq 0 ] || fail "Retry-After $mode: import --wait exited $rc"
  stop_pid "$W" 30 || fail "worker did not exit 0"
  n429=$(grep -o 'stopped: .*(429: [0-9]*' "$T/w-$mode.log" | grep -o '[0-9]*$')
  log "Retry-After $mode: the worker saw $n429 answers 429"
  [ "${n429:-0}" -gt 0 ] || fail "no 429 seen: the simulator's limit was not reached"
  dump_topic cxone.contact-updates "$T/src-$mode.json"
  dump_topic cxone.results "$T/res-$mode.json"
  check outcomes --source "$T/src-$mode.json" --results "$T/res-$mode.json" --max-failed 0 --max-rejected 0
  # the next round starts its own Kafka and simulator
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
done
log "PASS"
