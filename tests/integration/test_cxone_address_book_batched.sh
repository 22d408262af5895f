#!/usr/bin/env bash
# The address-book target end to end: cxone-sim --profile cxone limited to
# 20 requests/s (burst 5) with 3 % 5xx answers, two workers with
# CXONE_CONTACTS_TARGET=address-book and the group budget at 20/s. 5,000
# updates of 1,000 contacts: 2 % carry a bad e-mail address (the worker
# rejects them before any call, naming the field), and 10 a lastName over
# the 1,024 characters the sim takes (only the sim refuses them: their
# batches are bisected until they stand alone). Every message gets exactly
# one outcome; the bad ones are rejected naming their field, all others
# succeed; the sim holds the last good value of every field of every
# contact; the PUTs the sim saw (stored, refused, 429 and 5xx) are at most
# updates / 10. cxonectl doctor finds the book, and fails on an unknown one.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=5000
CONTACTS=1000
export CXONE_ACCESS_KEY_ID=AK-test
export CXONE_ACCESS_KEY_SECRET="ak-$$-do-not-log"
start_kafka 6
start_sim --profile cxone --access-key-id "$CXONE_ACCESS_KEY_ID" \
  --access-key-secret "$CXONE_ACCESS_KEY_SECRET" --address-books 1001,2002 \
  --rate-limit 20 --burst 5 --error-rate 0.03 --seed 14
SIM=$CXONE_BASE_URL
unset CXONE_BASE_URL
export CXONE_PROFILE=cxone CXONE_ISSUER_URL=$SIM
export CXONE_CONTACTS_TARGET=address-book CXONE_ADDRESS_BOOK_ID=1001

write_worker_conf "$T/w.conf" '
rate = { rps = 20.0; burst = 5; };
http = { max_in_flight = 16; request_timeout_ms = 5000; };'

"$CXW_BIN/cxonectl" -c "$T/w.conf" doctor >"$T/doctor.out" 2>"$T/doctor.log" ||
  { cat "$T/doctor.out" "$T/doctor.log" >&2; fail "doctor failed"; }
grep -q '^address book 1001: exists$' "$T/doctor.out" || fail "doctor did not check the book"
[ "$(tail -n 1 "$T/doctor.out")" = "doctor: OK" ] || fail "doctor did not end with doctor: OK"
rc=0
CXONE_ADDRESS_BOOK_ID=9999 "$CXW_BIN/cxonectl" -c "$T/w.conf" doctor \
  >"$T/doctor-bad.out" 2>"$T/doctor-bad.log" || rc=$?
[ $rc -eq 1 ] || fail "doctor with an unknown book exited $rc, not 1"
tail -n 1 "$T/doctor-bad.out" | grep -q '^doctor: FAILED: address book 9999 does not exist' ||
  fail "doctor did not name the unknown book: $(tail -n 1 "$T/doctor-bad.out")"

start_worker w1 "$T/w.conf"
start_worker w2 "$T/w.conf"

python3 - "$N" "$CONTACTS" >"$T/ab.csv" <<'PY'
import random, sys
n, contacts = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(14)
bad_email = set(rnd.sample(range(n), n * 2 // 100))
too_long = set(rnd.sample(sorted(set(range(n)) - bad_email), 10))
print("contactId,firstName,lastName,email")
for i in range(n):
    email = f"user{i}@example.com" if i not in bad_email else f"not-an-address-{i}"
    last = f"Last{i}" if i not in too_long else "L" * 1100
    print(f"ab-{i % contacts},First{i},{last},{email}")
PY
t0=$SECONDS
rc=0
"$CXW_BIN/cxonectl" contacts import "$T/ab.csv" --batch-id ab --wait --timeout 240 \
  >"$T/import.out" 2>"$T/import.log" || rc=$?
cat "$T/import.out" >&2
[ $rc -eq 3 ] || fail "import --wait exited $rc, expected 3 (some updates are rejected on purpose)"
log "5,000 updates done in $((SECONDS - t0)) s"

dump_topic cxone.contact-updates "$T/src.json"
dump_topic cxone.results "$T/res.json"
check outcomes --source "$T/src.json" --results "$T/res.json" --max-failed 0 \
  --expect-rejected $((N * 2 / 100 + 10))

curl -fsS --max-time 10 "$SIM/_sim/stats" >"$T/stats.json"
python3 - "$T/src.json" "$T/res.json" "$SIM" "$T/stats.json" "$N" <<'PY' || fail "outcomes, the sim's contacts or its request count are wrong"
import http.client, json, sys, urllib.parse
src_path, res_path, sim, stats_path, n = sys.argv[1:6]
outs = {}
for line in open(res_path):
    v = json.loads(json.loads(line)["value"])
    s = v["source"]
    outs[(s["topic"], s["partition"], s["offset"])] = v
src = sorted((json.loads(l) for l in open(src_path)), key=lambda m: (m["partition"], m["offset"]))
expect, problems = {}, []
for m in src:
    o = outs[(m["topic"], m["partition"], m["offset"])]
    v = json.loads(m["value"])
    bad_email = "@" not in v["email"]
    too_long = len(v["lastName"]) > 1024
    if bad_email or too_long:
        want = "email" if bad_email else "lastName"
        if o["status"] != "rejected" or want not in o.get("error", ""):
            problems.append(f"{v['contactId']}: {o['status']} {o.get('error')} (bad {want})")
        continue
    if o["status"] != "succeeded" or o.get("httpStatus") != 200 or o.get("attempts", 0) < 1:
        problems.append(f"{v['contactId']}: {o}")
    f = expect.setdefault(v["contactId"], {})
    for k, val in v.items():
        if k != "contactId" and val:
            f[k] = val
u = urllib.parse.urlsplit(sim)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
for cid, fields in expect.items():
    conn.request("GET", f"/_sim/contacts/{cid}")
    got = json.loads(conn.getresponse().read()).get("fields")
    if got != fields:
        problems.append(f"{cid}: sim holds {got}, expected {fields}")
for p in problems[:10]:
    print("check:", p)
s = json.load(open(stats_path))
fives = sum(v for k, v in s["requests"].items() if k.startswith("5"))
puts = s["addressBookRequests"] + s["rateLimited"] + fives + s["dropped"]
print("check: sim saw", {"PUTs": puts, "stored": s["addressBookRequests"] - s["addressBookRejected"],
                         "refused": s["addressBookRejected"], "entries": s["addressBookEntries"],
                         "429": s["rateLimited"], "5xx": fives}, "for", n, "updates,",
      len(expect), "contacts compared")
assert not problems, f"{len(problems)} problems"
assert len(expect) > 900
assert fives > 0, "no 5xx was injected"
assert s["addressBookRejected"] > 0, "no batch was refused: the bisection was not exercised"
assert puts <= int(n) / 10, f"{puts} PUTs for {n} updates"
PY

dump_topic cxone.audit "$T/audit.json"
dump_topic cxone.dlq "$T/dlq.json"
python3 - "$T/audit.json" "$T/dlq.json" "$N" <<'PY' || fail "audit events or DLQ copies are wrong"
import json, sys
audit = [json.loads(json.loads(l)["value"]) for l in open(sys.argv[1])]
dlq = [json.loads(l) for l in open(sys.argv[2])]
n = int(sys.argv[3])
print(f"check: {len(audit)} audit events, {len(dlq)} DLQ copies")
assert len(audit) >= n, "an entry has no audit event"
assert len(dlq) >= n * 2 // 100 + 10, "a rejected update has no DLQ copy"
PY
log "PASS"
