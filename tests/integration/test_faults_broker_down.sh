#!/usr/bin/env bash
# The Kafka broker goes down for 10 s in the middle of a run and comes back
# (dev-kafka's control: `broker down all`, `broker up all`): every request
# gets exactly one good outcome per source offset, none failed, none lost;
# the replicas wait for the broker rather than fail requests.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=3000
start_kafka_ctl 6
start_sim --rate-limit 150 --burst 10 --latency-ms 5
write_worker_conf "$T/w.conf" 'rate = { rps = 150.0; burst = 10; }; http = { max_in_flight = 32; };'
start_worker w1 "$T/w.conf"
W1=$LAST_PID
start_worker w2 "$T/w.conf"
W2=$LAST_PID

gen_updates $N bd >"$T/in.tsv"
"$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.contact-updates -H batch-id=bd \
  <"$T/in.tsv" 2>"$T/kproduce.log" || fail "producing the updates failed"
log "produced $N updates"

wait_until 60 applied_at_least 300 || fail "the replicas made no progress"
kafka_ctl broker down all
down_at=$(applied)
sleep 10
kafka_ctl broker up all
[ "$down_at" -lt $N ] || fail "everything was done before the broker went down; the test proves nothing"

wait_until 240 outcomes_for $N bd || fail "not every request got an outcome after the broker came back"
stop_pid "$W1" 30 || fail "w1 did not exit 0"
stop_pid "$W2" 30 || fail "w2 did not exit 0"

dump_topic cxone.contact-updates "$T/src.json"
dump_topic cxone.results "$T/res.json"
check outcomes --source "$T/src.json" --results "$T/res.json" --max-failed 0 --max-rejected 0
check contacts --source "$T/src.json" --results "$T/res.json" --sim "$CXONE_BASE_URL"
log "PASS (applied when the broker went down: $down_at of $N)"
