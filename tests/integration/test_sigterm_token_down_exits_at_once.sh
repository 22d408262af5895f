#!/usr/bin/env bash
# ctest-label: asan
# SIGTERM with the token endpoint down: the buffered requests wait for a
# token, none is in flight, so the stop hands them all over at once and the
# replica exits in under a second (not after worker.shutdown_deadline_ms);
# nothing was committed for them, so a new replica does every one of them
# once the endpoint is back.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=200
start_kafka 3
start_sim --token-fail-rate 1
write_worker_conf "$T/w.conf" 'rate = { rps = 0.0; }; worker = { shutdown_deadline_ms = 30000; log_level = "info"; };'
gen_updates "$N" t >"$T/in.txt"
"$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.contact-updates \
  <"$T/in.txt" 2>>"$T/kproduce.log" || fail "kproduce"

start_worker w1 "$T/w.conf"
W1=$LAST_PID
wait_until 30 grep -q "token fetch failed" "$T/w1.log" || fail "no token failure logged"
consumed() { grep -q '"assigned [1-9]' "$T/w1.log" && sleep 1; }
wait_until 30 consumed || fail "no partitions"

t0=$(date +%s%N)
stop_pid "$W1" 40 || fail "the replica did not exit 0 on SIGTERM"
stop_ms=$((($(date +%s%N) - t0) / 1000000))
log "stopped in $stop_ms ms with the token endpoint down"
grep -o 'stopped: consumed [0-9]*' "$T/w1.log" || true
[ "$stop_ms" -lt 1000 ] || fail "the stop took $stop_ms ms with nothing in flight (expected < 1 s)"
dump_topic cxone.results "$T/res0.json"
[ ! -s "$T/res0.json" ] || fail "outcomes were published without a token"

# What it held was handed over: the next replica does all of it.
curl -fsS -X POST -d '{"tokenFailRate":0}' "$CXONE_BASE_URL/_sim/config" >/dev/null
start_worker w2 "$T/w.conf"
W2=$LAST_PID
done_all() {
  dump_topic cxone.results "$T/res.json"
  [ "$(wc -l <"$T/res.json")" -ge "$N" ]
}
wait_until 90 done_all || fail "the requests were not handed over"
stop_pid "$W2" 30 || fail "the second replica did not exit 0"
dump_topic cxone.contact-updates "$T/src.json"
dump_topic cxone.results "$T/res.json"
check outcomes --source "$T/src.json" --results "$T/res.json" --exactly-once --max-failed 0 --max-rejected 0
log "PASS"
