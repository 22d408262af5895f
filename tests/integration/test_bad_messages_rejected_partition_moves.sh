#!/usr/bin/env bash
# ctest-label: asan
# A mix of bad messages on one partition (contactIds '.' and '..' among
# them): each is rejected with its reason,
# copied to the DLQ with the reason headers, and the good ones around them
# (and after them) succeed: no poison pill blocks the partition.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start_kafka 1
start_sim --unknown-contact-prefix nx-
write_worker_conf "$T/w.conf" 'rate = { rps = 0.0; };'
start_worker w1 "$T/w.conf"

# KEY<TAB>VALUE lines; the expectations below follow the same order.
cat >"$T/in.txt" <<'MSGS'
g-1	{"contactId":"g-1","firstName":"Ann"}
bad-json	{"contactId":"bad-json","firstName":
	{"firstName":"NoId"}
../etc	{"contactId":"../etc","firstName":"x"}
..	{"contactId":"..","firstName":"x"}
.	{"contactId":".","firstName":"x"}
g-2	{"contactId":"g-2","lastName":"Lee","email":"lee@example.com"}
u-1	{"contactId":"u-1","phone":"+1 555"}
m-1	{"contactId":"m-1","email":"not-an-email"}
e-1	{"contactId":"e-1","firstName":"","lastName":""}
other	{"contactId":"k-1","firstName":"Kay"}
arr	[1,2,3]
nx-404	{"contactId":"nx-404","firstName":"Ghost"}
t-1	{"contactId":"t-1","firstName":42}
g-3	{"contactId":"g-3","firstName":"Zed"}
MSGS
"$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.contact-updates -H batch-id=mix \
  <"$T/in.txt" 2>>"$T/kproduce.log" || fail "kproduce"

has_all() {
  dump_topic cxone.results "$T/res.json"
  [ "$(wc -l <"$T/res.json")" -ge 15 ]
}
wait_until 60 has_all || fail "not every message got an outcome"

python3 - "$T/res.json" <<'PY' || fail "outcomes differ from what was expected"
import json, sys
expect = [
    ("succeeded", None),
    ("rejected", "invalid JSON"),
    ("rejected", "contactId is missing"),
    ("rejected", "contactId must be"),
    # dot segments: libcurl would have sent '..' as PATCH /api/v2/
    # (security finding 2); rejected unsent, like any invalid id
    ("rejected", "not only dots"),
    ("rejected", "not only dots"),
    ("succeeded", None),
    ("rejected", "unknown field 'phone'"),
    ("rejected", "field 'email' is not a valid e-mail address"),
    ("rejected", "no fields to update"),
    ("rejected", "does not match contactId"),
    ("rejected", "JSON object"),
    ("rejected", "HTTP 404"),
    ("rejected", "must be a string"),
    ("succeeded", None),
]
got = {}
for line in open(sys.argv[1]):
    v = json.loads(json.loads(line)["value"])
    got[v["source"]["offset"]] = v
ok = True
for off, (status, reason) in enumerate(expect):
    v = got.get(off)
    if v is None:
        print(f"offset {off}: no outcome"); ok = False; continue
    err = v["error"] or ""
    match = v["status"] == status and (reason is None or reason.lower() in err.lower())
    print(f"offset {off}: {v['status']:9} http={v['httpStatus']} {err!r} {'ok' if match else 'UNEXPECTED'}")
    ok &= match
    if v["batchId"] != "mix":
        print(f"offset {off}: batchId not copied: {v['batchId']}"); ok = False
    if status == "rejected" and reason != "HTTP 404" and v["httpStatus"] is not None:
        print(f"offset {off}: a validation reject made a call"); ok = False
sys.exit(0 if ok else 1)
PY
dump_topic cxone.dlq "$T/dlq.json"
dump_topic cxone.audit "$T/audit.json"
dump_topic cxone.contact-updates "$T/src.json"
check dlq --results "$T/res.json" --dlq "$T/dlq.json"
check audit --audit "$T/audit.json" --source "$T/src.json"
python3 - "$T/dlq.json" "$T/src.json" <<'PY' || fail "DLQ copies differ from the originals"
import json, sys
dlq = [json.loads(l) for l in open(sys.argv[1])]
src = {m["offset"]: m for m in map(json.loads, open(sys.argv[2]))}
for m in dlq:
    h = m["headers"]
    o = src[int(h["dlq-source-offset"])]
    assert m["key"] == o["key"] and m["value"] == o["value"], f"DLQ copy differs: {m} vs {o}"
    assert h.get("batch-id") == "mix", f"original headers not kept: {h}"
print(f"check: {len(dlq)} DLQ copies carry the original key, value and headers")
PY
# shellcheck disable=SC2046
check nosecret "$T"/*.log "$T"/*.json --secret "$CXONE_CLIENT_SECRET" $(token_args)
log "PASS"
