#!/usr/bin/env bash
# ctest-label: asan
# A record Kafka can never take ends, it is not retried forever: the
# producer's message.max.bytes is 20,000 here and one request has a
# 25,000-byte key, so neither its outcome nor its DLQ copy (both keyed by
# it) can be produced. They are dropped (an error line with the request's
# topic/partition/offset, cxw_records_dropped_total), its audit event
# (without that key) is written, the request completes and the offset moves:
# a new replica after a stop repeats nothing and does the next message.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start_kafka 1
start_sim
write_worker_conf "$T/w.conf" 'rate = { rps = 0.0; }; limits = { max_message_bytes = 1000; };
kafka = { consumer_properties = [ "session.timeout.ms=6000", "heartbeat.interval.ms=500" ];
          producer_properties = [ "message.max.bytes=20000" ]; };'
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
with open(f"{t}/a.txt", "w") as f:
    f.write('g-1\t{"contactId":"g-1","firstName":"Ann"}\n')
    f.write("k" * 25000 + '\t{"contactId":"k-1","firstName":"Kay"}\n')
    f.write('g-2\t{"contactId":"g-2","firstName":"Bo"}\n')
with open(f"{t}/b.txt", "w") as f:
    f.write('g-3\t{"contactId":"g-3","firstName":"Cy"}\n')
PY
"$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.contact-updates <"$T/a.txt" \
  2>>"$T/kproduce.log" || fail "kproduce"

CXONE_WORKER_ADMIN_LISTEN=127.0.0.1:0 start_worker w1 "$T/w.conf"
W1=$LAST_PID
wait_until 20 grep -q '"admin listener on' "$T/w1.log" || fail "no admin listener"
PORT=$(grep -o 'admin listener on [^ ]* (port [0-9]*' "$T/w1.log" | grep -o '[0-9]*$')
dropped() {
  curl -fsS --max-time 5 "http://127.0.0.1:$PORT/metrics" >"$T/m.prom" &&
    grep -q '^cxw_records_dropped_total 2$' "$T/m.prom"
}
wait_until 30 dropped || fail "cxw_records_dropped_total is not 2: $(grep records_dropped "$T/m.prom")"
grep 'record to cxone.results dropped' "$T/w1.log" | grep -q '"offset":1[,}]' ||
  fail "no error line about the dropped outcome of offset 1"
grep -q 'record to cxone.dlq dropped' "$T/w1.log" || fail "no error line about the dropped DLQ copy"
has() {
  dump_topic cxone.audit "$T/aud.json"
  grep -q 'contact.rejected.*\\"offset\\":1}' "$T/aud.json"
}
wait_until 30 has || fail "the audit event of the request was not written"

t0=$(date +%s%N)
stop_pid "$W1" 30 || fail "the replica did not exit 0"
stop_ms=$((($(date +%s%N) - t0) / 1000000))
log "stopped in $stop_ms ms"
[ "$stop_ms" -lt 5000 ] || fail "the stop waited for the dropped records"
"$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.contact-updates <"$T/b.txt" \
  2>>"$T/kproduce.log" || fail "kproduce"
start_worker w2 "$T/w.conf"
W2=$LAST_PID
three() {
  dump_topic cxone.results "$T/res.json"
  [ "$(wc -l <"$T/res.json")" -ge 3 ]
}
wait_until 60 three || fail "the next message got no outcome"
sleep 1
stop_pid "$W2" 30 || fail "the second replica did not exit 0"
dump_topic cxone.results "$T/res.json"
python3 - "$T/res.json" <<'PY' || fail "outcomes"
import json, sys
offs = sorted(json.loads(json.loads(l)["value"])["source"]["offset"] for l in open(sys.argv[1]))
print(f"check: outcomes for offsets {offs}")
assert offs == [0, 2, 3], "expected one outcome each for offsets 0, 2 and 3 (1's was dropped)"
PY
grep -q "not delivered\|cannot queue a record" "$T/w1.log" "$T/w2.log" && fail "a record was retried"
log "PASS"
