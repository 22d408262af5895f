#!/usr/bin/env bash
# kafka.exactly_once, fencing: a replica whose transactional producer is
# fenced logs it clearly, stops at once with a non-zero exit, and its
# successor under the same worker.id (CXONE_WORKER_ID) finishes the work:
# every request has an outcome, the simulator holds the last value of every
# contact.
#
# On a broker, the successor's start fences its predecessor (the
# transactional.id is derived from worker.id). librdkafka 2.0.2's mock
# cluster does not fence on a second InitProducerId (checked: the first
# producer still commits), so the test gives the first replica the answer
# a broker gives a zombie: PRODUCER_FENCED (90) to its next EndTxn (26),
# through dev-kafka's fault control. That nothing is written after the
# fencing is shown by test_worker_exactly_once (the fake producer refuses
# any record once fenced).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=3000
start_kafka_ctl 4
start_sim --latency-ms 5
write_worker_conf "$T/w.conf" 'kafka = { exactly_once = true;
  consumer_properties = [ "session.timeout.ms=6000", "heartbeat.interval.ms=500" ]; };
rate = { rps = 400.0; burst = 20; };'

CXONE_WORKER_ID=twin start_worker old "$T/w.conf"
OLD=$LAST_PID
gen_updates $N fz >"$T/in.tsv"
"$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.contact-updates -H batch-id=fz \
  <"$T/in.tsv" 2>"$T/kproduce.log" || fail "producing the updates failed"
wait_until 60 applied_at_least 300 || fail "the replica made no progress"

kafka_ctl request-errors 26 90 1
fenced_at=$SECONDS
wait_until 20 eval "! kill -0 $OLD 2>/dev/null" || fail "the fenced replica did not stop"
rc=0
wait "$OLD" || rc=$?
log "fenced replica exited $rc after $((SECONDS - fenced_at)) s"
[ "$rc" -ne 0 ] || fail "the fenced replica exited 0"
grep -q '"level":"error".*fatal.*PRODUCER_FENCED\|"level":"error".*fenced' "$T/old.log" ||
  fail "no clear error about the fencing in the log: $(tail -5 "$T/old.log")"
grep -q "exiting without writing anything else" "$T/old.log" ||
  fail "the log does not say the replica stops writing"
[ "$(applied)" -lt $N ] || fail "all done before the fencing; the test proves nothing"

CXONE_WORKER_ID=twin start_worker new "$T/w.conf"
NEW=$LAST_PID
wait_until 120 outcomes_for $N fz || fail "the successor did not finish the work"
stop_pid "$NEW" 30 || fail "the successor did not exit 0"
dump_topic cxone.contact-updates "$T/src.json"
dump_topic cxone.results "$T/res.json"
check outcomes --source "$T/src.json" --results "$T/res.json" --max-failed 0 --max-rejected 0
check contacts --source "$T/src.json" --results "$T/res.json" --sim "$CXONE_BASE_URL"
log "PASS"
