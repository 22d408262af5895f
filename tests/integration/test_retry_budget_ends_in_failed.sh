#!/usr/bin/env bash
# ctest-label: asan
# CXone answering 5xx to everything: each request is retried with backoff
# up to retry.max_attempts and then ends "failed", with its DLQ copy
# (dlq-status failed, dlq-attempts, the last HTTP status), with the outage
# breaker off (http.outage_threshold = 0: on, CXone answering 5xx to
# everything is an outage, waited out); a non-retryable
# 4xx (404) ends "rejected" after one attempt.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start_kafka 1
start_sim --error-rate 1 --unknown-contact-prefix nx-
write_worker_conf "$T/w.conf" 'rate = { rps = 0.0; }; retry = { max_attempts = 3; base_delay_ms = 20; max_delay_ms = 100; }; http = { outage_threshold = 0; };'
start_worker w1 "$T/w.conf"

printf 'f-%d\t{"contactId":"f-%d","firstName":"F"}\n' 1 1 2 2 3 3 4 4 5 5 >"$T/in.txt"
"$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.contact-updates <"$T/in.txt" \
  2>>"$T/kproduce.log" || fail "kproduce"
done_all() {
  dump_topic cxone.results "$T/res.json"
  [ "$(wc -l <"$T/res.json")" -ge 5 ]
}
wait_until 60 done_all || fail "no outcomes"
# The 404 case: the simulator checks the contact before its fault injection
# only when faults are off.
curl -fsS -X POST -d '{"errorRate":0}' "$CXONE_BASE_URL/_sim/config" >/dev/null
printf 'nx-1\t{"contactId":"nx-1","firstName":"N"}\n' | "$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" \
  -t cxone.contact-updates 2>>"$T/kproduce.log" || fail "kproduce"
done_6() {
  dump_topic cxone.results "$T/res.json"
  [ "$(wc -l <"$T/res.json")" -ge 6 ]
}
wait_until 60 done_6 || fail "no outcome for the 404"
dump_topic cxone.dlq "$T/dlq.json"
python3 - "$T/res.json" "$T/dlq.json" <<'PY' || fail "unexpected outcomes"
import json, sys
res = [json.loads(json.loads(l)["value"]) for l in open(sys.argv[1])]
dlq = [json.loads(l) for l in open(sys.argv[2])]
for o in res[:5]:
    print(f"check: {o['contactId']}: {o['status']} attempts={o['attempts']} http={o['httpStatus']} {o['error']}")
    assert o["status"] == "failed", o
    assert o["attempts"] == 3, o
    assert o["httpStatus"] in (500, 502, 503), o
    assert "gave up after 3 attempts" in o["error"], o
n = res[5]
print(f"check: {n['contactId']}: {n['status']} attempts={n['attempts']} http={n['httpStatus']} {n['error']}")
assert n["status"] == "rejected" and n["attempts"] == 1 and n["httpStatus"] == 404, n
assert len(dlq) == 6, f"{len(dlq)} DLQ records, expected 6"
for m in dlq[:5]:
    h = m["headers"]
    assert h["dlq-status"] == "failed" and h["dlq-attempts"] == "3", h
    assert h["dlq-http-status"] in ("500", "502", "503"), h
assert dlq[5]["headers"]["dlq-status"] == "rejected" and dlq[5]["headers"]["dlq-http-status"] == "404"
print("check: retry budget and DLQ OK")
PY
log "PASS"
