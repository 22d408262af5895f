#!/usr/bin/env bash
# Three replicas, one of them killed with SIGKILL every 3 s (a random one)
# and started again, under load: no request is lost, none failed, and the
# duplicate outcomes (work redone by the next owner of a partition) stay
# within the window a killed replica can leave uncommitted: its calls in
# flight plus what it finished since its last commit (auto-commit every
# second), at the group's rate. Short form: 20 s and 6,000 updates;
# CXW_LONG=1 (tests/run.sh --long): 60 s and 30,000 updates.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if [ -n "${CXW_LONG:-}" ]; then N=30000 SECS=60 RATE=600; else N=6000 SECS=20 RATE=300; fi
INFLIGHT=16
start_kafka 12
start_sim --rate-limit $RATE --burst 20 --latency-ms 5
write_worker_conf "$T/w.conf" "rate = { rps = $RATE.0; burst = 20; }; http = { max_in_flight = $INFLIGHT; };"
declare -A WPID
for r in a b c; do
  start_worker "$r" "$T/w.conf"
  WPID[$r]=$LAST_PID
done

gen_updates $N kr >"$T/in.tsv"
"$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.contact-updates -H batch-id=kr \
  <"$T/in.tsv" 2>"$T/kproduce.log" || fail "producing the updates failed"
log "produced $N updates"

wait_until 60 applied_at_least 200 || fail "the replicas made no progress"
kills=0
end=$((SECONDS + SECS))
while [ $SECONDS -lt $end ]; do
  sleep 3
  names=(a b c)
  r=${names[$((RANDOM % 3))]}
  kill -KILL "${WPID[$r]}" 2>/dev/null || true
  wait "${WPID[$r]}" 2>/dev/null || true
  kills=$((kills + 1))
  mv "$T/$r.log" "$T/$r.$kills.log"
  start_worker "$r" "$T/w.conf"
  WPID[$r]=$LAST_PID
done
at_end=$(applied)
log "$kills kills in $SECS s; $at_end contacts applied so far"
[ "$at_end" -lt $N ] || fail "all done before the kills ended; the test proves nothing"

wait_until 300 outcomes_for $N kr || fail "not every request got an outcome"
for r in a b c; do stop_pid "${WPID[$r]}" 30 || fail "replica $r did not exit 0"; done

dump_topic cxone.contact-updates "$T/src.json"
dump_topic cxone.results "$T/res.json"
# Each kill can leave uncommitted: the calls in flight, plus up to one second
# (the commit interval) of finished work at the group's rate, plus what was
# consumed and finished while the partition moved. Bound: kills x (in flight
# + rate x 1 s), printed beside the count.
bound=$((kills * (INFLIGHT + RATE)))
log "duplicate bound: $kills kills x ($INFLIGHT in flight + $RATE/s x 1 s) = $bound"
check outcomes --source "$T/src.json" --results "$T/res.json" --max-failed 0 --max-rejected 0 \
  --max-duplicates "$bound"
check contacts --source "$T/src.json" --results "$T/res.json" --sim "$CXONE_BASE_URL"
log "PASS ($kills kills)"
