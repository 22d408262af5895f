#!/usr/bin/env bash
# ctest-label: asan
# test_dlq_replay.sh: `cxonectl dlq list` and `cxonectl dlq replay` around a
# simulated CXone outage, against dev-kafka, cxone-sim and one worker.
#
# What must hold:
#  - requests whose retry budget runs out during an outage end "failed" and
#    `dlq list --all` shows each of them (one line per record, the count on
#    stderr; --json gives key, value and headers; filters work), and
#    `dlq list` groups them by status, HTTP status and reason (numbers as
#    '#') with counts that add up, most records first;
#  - after the outage, `dlq replay` re-publishes every failed record to its
#    source topic with its original key, value and headers, no dlq-*
#    header, replay-count 1 and replayed-from dlq:<p>:<o>; each contact then
#    gets a succeeded outcome and the simulator holds its fields;
#  - rejected records are not replayed unless --status rejected is given;
#  - loops are bounded: the worker carries replay-count into the DLQ copy of
#    a replay that fails again, so with --max-replays 1 the second replay
#    refuses the records ("replayed 1 times already; not again"); a record
#    whose replay came back to the DLQ is not replayed a second time; with
#    the default bound of 3 the cycle stops after three replays;
#  - a record without a valid source topic, whose source is the DLQ, with a
#    replay-count that is not a number, or a second DLQ copy of the same
#    request, is refused and counted;
#  - nothing printed holds the client secret.
# Every wait is bounded; everything started is stopped on exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

CTL="$CXW_BIN/cxonectl"
N=50
M=10

expect_contains() { # file needle what
  grep -qF -- "$2" "$1" || { sed 's/^/    /' "$1" >&2; fail "$3: '$2' not in $1"; }
}
sim_config() { curl -fsS --max-time 10 -X POST -d "$1" "$CXONE_BASE_URL/_sim/config" >/dev/null; }
now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
# ctl NAME ARGS...: cxonectl, bounded, stdout to $T/NAME.out, stderr to $T/NAME.log; sets RC.
ctl() {
  local name=$1; shift
  RC=0
  timeout 120 "$CTL" "$@" >"$T/$name.out" 2>"$T/$name.log" || RC=$?
}
# dlq_count ARGS... N: `dlq list --all ARGS` shows exactly N records.
dlq_count() {
  local want=${*: -1}
  ctl dlqc dlq list --all "${@:1:$#-1}" && [ "$RC" -eq 0 ] && [ "$(wc -l <"$T/dlqc.out")" -eq "$want" ]
}

start_kafka 3
start_sim --error-rate 1 --unknown-contact-prefix nx-
# The outage breaker off: the requests are to fail within their retry
# budget and land in the DLQ (with it on, an outage is waited out).
write_worker_conf "$T/w.conf" 'rate = { rps = 0.0; }; retry = { max_attempts = 2; base_delay_ms = 20; max_delay_ms = 50; }; http = { outage_threshold = 0; };'
start_worker w1 "$T/w.conf"

# ---- an outage: every request fails --------------------------------------
python3 "$CXW_SRC/tests/integration/gen_contacts.py" $N $N d >"$T/d.csv"
ctl imp1 contacts import "$T/d.csv" --batch-id outage --wait --timeout 90
[ "$RC" -eq 3 ] || fail "import during the outage: exit $RC, expected 3"
expect_contains "$T/imp1.out" "Succeeded 0 | Rejected 0 | Failed $N" "all failed"

ctl list1 dlq list --all
[ "$RC" -eq 0 ] || fail "dlq list --all: exit $RC"
[ "$(grep -c ' failed cxone.contact-updates\[[0-9]*\]@[0-9]* key=d-[0-9]* http=50[023] attempts=2 replays=0 ' "$T/list1.out")" -eq $N ] ||
  { sed 's/^/    /' "$T/list1.out" >&2; fail "dlq list does not show $N failed records"; }
expect_contains "$T/list1.log" "listed $N of $N DLQ records (cxone.dlq)" "dlq list count line"
log "check: dlq list --all shows $N failed records: $(head -n 1 "$T/list1.out")"

# Grouped: the sim answers 500, 502 or 503, so one to three groups of the
# same reason pattern, most records first, adding up to N.
ctl grp1 dlq list
[ "$RC" -eq 0 ] || fail "dlq list: exit $RC"
python3 - "$T/grp1.out" $N <<'PY' || { sed 's/^/    /' "$T/grp1.out" >&2; fail "dlq list groups"; }
import re, sys
lines = open(sys.argv[1]).read().splitlines()
pat = re.compile(r"^ *(\d+) failed http=50[023] first=(\S+) last=(\S+) "
                 r"gave up after # attempts in # ms: simulated server error \(HTTP #\)$")
counts = []
for l in lines:
    m = pat.match(l)
    assert m, l
    assert m.group(2) <= m.group(3) and m.group(2).startswith("20"), l
    counts.append(int(m.group(1)))
assert 1 <= len(lines) <= 3 and sum(counts) == int(sys.argv[2]), counts
assert counts == sorted(counts, reverse=True), counts
print(f"check: dlq list: {len(lines)} group(s) of {counts} records")
PY
expect_contains "$T/grp1.log" "listed $N of $N DLQ records (cxone.dlq) in " "dlq list groups line"

ctl listj dlq list --json --reason 'GAVE UP'
[ "$RC" -eq 0 ] || fail "dlq list --json: exit $RC"
python3 - "$T/listj.out" $N <<'PY' || fail "dlq list --json"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == int(sys.argv[2]), len(recs)
for r in recs:
    h = r["headers"]
    assert h["dlq-status"] == "failed" and h["batch-id"] == "outage", h
    assert json.loads(r["value"])["contactId"] == r["key"], r
print(f"check: dlq list --json: {len(recs)} records with key, value and headers")
PY
dlq_count --status rejected 0 || fail "dlq list --status rejected is not empty"
dlq_count --since 2999-01-01T00:00:00Z 0 || fail "dlq list --since the future is not empty"
dlq_count --reason no-such-reason 0 || fail "dlq list --reason filters nothing"

ctl dry dlq replay --dry-run
[ "$RC" -eq 0 ] || fail "dlq replay --dry-run: exit $RC"
expect_contains "$T/dry.out" "would replay $N, skipped 0" "dry run"

# ---- the outage is over: replay -------------------------------------------
sim_config '{"errorRate":0}'
ctl rep1 dlq replay
[ "$RC" -eq 0 ] || fail "dlq replay: exit $RC"
expect_contains "$T/rep1.out" "replayed $N, skipped 0" "replay summary"
[ "$(grep -c '^replayed dlq:[0-9]*:[0-9]* key=d-[0-9]* -> cxone.contact-updates\[[0-9]\]@[0-9]* replay-count=1$' "$T/rep1.out")" -eq $N ] ||
  { sed 's/^/    /' "$T/rep1.out" >&2; fail "replay does not list $N replayed records"; }

all_succeeded() {
  dump_topic cxone.results "$T/res.json" || return 1
  python3 - "$T/res.json" "$1" "$2" <<'PY'
import json, sys
prefix, n = sys.argv[2], int(sys.argv[3])
ok = {json.loads(json.loads(l)["value"]).get("contactId") for l in open(sys.argv[1])
      if json.loads(json.loads(l)["value"]).get("status") == "succeeded"}
sys.exit(0 if all(f"{prefix}-{i}" in ok for i in range(n)) else 1)
PY
}
wait_until 60 all_succeeded d $N || fail "not every replayed contact has a succeeded outcome"
log "check: $N replayed contacts succeeded"

for i in $(seq 0 $((N - 1))); do
  sim_get "/_sim/contacts/d-$i" >"$T/c.json" || fail "the simulator does not hold d-$i"
  python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); assert c["fields"]["firstName"]==sys.argv[2], c' \
    "$T/c.json" "First$i" || fail "d-$i: wrong fields in the simulator"
done
log "check: the simulator holds the $N contacts"

dump_topic cxone.contact-updates "$T/src.json" || fail "topic dump"
python3 - "$T/src.json" "$T/list1.out" $N <<'PY' || fail "replayed messages"
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
orig = {m["key"]: m for m in msgs if "replayed-from" not in m["headers"]}
rep = [m for m in msgs if "replayed-from" in m["headers"]]
assert len(rep) == int(sys.argv[3]), len(rep)
for m in rep:
    h, o = m["headers"], orig[m["key"]]
    assert not any(k.startswith("dlq-") for k in h), h
    assert h["replay-count"] == "1" and h["replayed-from"].startswith("dlq:"), h
    assert m["value"] == o["value"] and m["partition"] == o["partition"], (m, o)
    assert h["batch-id"] == o["headers"]["batch-id"], h
    assert h["correlation-id"] == o["headers"]["correlation-id"], h
print(f"check: {len(rep)} replays: original key, value, headers and partition; "
      "replay-count 1; no dlq-* header")
PY

# ---- rejected records need --status rejected ------------------------------
T3=$(now)
printf 'contactId,firstName\nnx-1,Nobody\n' >"$T/nx.csv"
ctl imp2 contacts import "$T/nx.csv" --wait --timeout 60
[ "$RC" -eq 3 ] || fail "import of an unknown contact: exit $RC, expected 3"
ctl grp2 dlq list --since "$T3"
grep -Eq '^ +1 rejected http=404 first=[0-9T:.Z-]+ last=[0-9T:.Z-]+ .+' "$T/grp2.out" ||
  { sed 's/^/    /' "$T/grp2.out" >&2; fail "dlq list: the rejected record is not a group of its own"; }
ctl dry2 dlq replay --since "$T3" --dry-run
expect_contains "$T/dry2.out" "would replay 0, skipped 0" "rejected not replayed by default"
expect_contains "$T/dry2.out" "1 rejected record(s) not selected" "rejected not replayed by default"
ctl dry3 dlq replay --since "$T3" --status rejected --dry-run
expect_contains "$T/dry3.out" "would replay 1, skipped 0" "rejected replayed with --status rejected"

# ---- loops are bounded ----------------------------------------------------
sim_config '{"errorRate":1}'
T2=$(now)
python3 "$CXW_SRC/tests/integration/gen_contacts.py" $M $M e >"$T/e.csv"
ctl imp3 contacts import "$T/e.csv" --wait --timeout 90
[ "$RC" -eq 3 ] || fail "second outage import: exit $RC, expected 3"

ctl rep2 dlq replay --since "$T2" --max-replays 1
expect_contains "$T/rep2.out" "replayed $M, skipped 0" "first replay with --max-replays 1"
wait_until 60 dlq_count --since "$T2" $((2 * M)) || fail "the replays did not come back to the DLQ"
[ "$(grep -c ' replays=1 ' "$T/dlqc.out")" -eq $M ] || fail "the worker did not carry replay-count into the DLQ"
log "check: a failed replay comes back to the DLQ with replay-count 1"

ctl rep3 dlq replay --since "$T2" --max-replays 1
[ "$RC" -eq 0 ] || fail "second replay: exit $RC"
expect_contains "$T/rep3.out" "replayed 0, skipped $((2 * M)) ($M at --max-replays, $M replayed before)" \
  "second replay with --max-replays 1"
[ "$(grep -c 'replayed 1 times already; not again' "$T/rep3.out")" -eq $M ] || fail "refusals not reported"
! grep -q "rejected record" "$T/rep3.out" || fail "a rejected record outside --since was reported as left out"
log "check: --max-replays 1: the second replay refuses the records"

# The default bound, 3: two more cycles, then a refusal.
for k in 2 3; do
  ctl "cyc$k" dlq replay --since "$T2"
  expect_contains "$T/cyc$k.out" "replayed $M, skipped $(((k - 1) * M))" "replay cycle $k"
  wait_until 60 dlq_count --since "$T2" $(((k + 1) * M)) || fail "cycle $k did not come back to the DLQ"
done
ctl cyc4 dlq replay --since "$T2"
expect_contains "$T/cyc4.out" "replayed 0, skipped $((4 * M)) ($M at --max-replays, $((3 * M)) replayed before)" \
  "replay after 3 cycles"
[ "$(grep -c 'replayed 3 times already; not again' "$T/cyc4.out")" -eq $M ] || fail "3-cycle refusals not reported"
log "check: the default bound stops the cycle after 3 replays"

# ---- records replay must refuse, written straight to the DLQ --------------
kp() { # KEY ARGS...: one message "KEY<TAB>{...}" to cxone.dlq with headers ARGS
  local key=$1; shift
  printf '%s\t{"contactId":"%s"}\n' "$key" "$key" |
    "$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.dlq -H dlq-status=failed \
      -H dlq-reason=synthetic-test-record "$@" 2>>"$T/kproduce.log" || fail "kproduce"
}
SRC=(-H dlq-source-topic=cxone.contact-updates -H dlq-source-partition=0)
kp z-nosource
kp z-self -H dlq-source-topic=cxone.dlq -H dlq-source-partition=0 -H dlq-source-offset=1
kp z-badcount "${SRC[@]}" -H dlq-source-offset=900001 -H replay-count=abc
kp z-dup "${SRC[@]}" -H dlq-source-offset=900002
kp z-dup "${SRC[@]}" -H dlq-source-offset=900002
ctl bad dlq replay --reason SYNTHETIC-test --dry-run
[ "$RC" -eq 0 ] || fail "dry run over bad records: exit $RC"
expect_contains "$T/bad.out" "would replay 1, skipped 4 (1 without a valid source topic, 1 from the DLQ itself, 1 with a bad replay-count, 1 duplicate copies)" \
  "bad records refused"
expect_contains "$T/bad.out" "would replay dlq:" "the first copy of a duplicate"
ctl badl dlq list --all --reason synthetic
expect_contains "$T/badl.out" "- failed -[-]@- key=z-nosource http=- attempts=- replays=0 synthetic-test-record" \
  "a record without dlq headers listed with dashes"
expect_contains "$T/badl.out" "replays=abc" "a bad replay-count shown as it is"
ctl badg dlq list --reason synthetic
[ "$(cat "$T/badg.out")" = "     5 failed http=- first=- last=- synthetic-test-record" ] ||
  { sed 's/^/    /' "$T/badg.out" >&2; fail "records without dlq-at or dlq-http-status: one group"; }
log "check: records without a source, from the DLQ, with a bad count or duplicated are refused"

check nosecret "$T"/*.out "$T"/*.log --secret "$CXONE_CLIENT_SECRET" || fail "a secret leaked"
log "PASS"
