#!/usr/bin/env bash
# ctest-label: asan
# A CRM export with columns the worker does not update (Company, Phone,
# Notes) goes through with 0 rejected: cxonectl contacts import ignores
# them, naming them once, and sends nothing of them. --strict refuses them
# before producing anything; --map renames a column to an updatable field;
# a semicolon-separated file is named as such and imports with --delimiter.
# A rejected row's outcome, audit event and DLQ copy carry its contactId, and
# a skipped row makes --wait exit 3.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start_kafka 3
start_sim --allowed-fields firstName,lastName,email,phone
write_worker_conf "$T/w.conf" 'rate = { rps = 0.0; };'
start_worker w1 "$T/w.conf"

# 199 rows, as the export that was 100% rejected: headers as a CRM writes
# them, three columns that are not contact fields.
python3 - >"$T/crm.csv" <<'PY'
print("Contact ID,First Name,Last Name,E-mail,Company,Phone,Notes")
for i in range(199):
    print(f'crm-{i},First{i},Last{i},user{i}@example.com,"ACME, Inc.",+1 555 {i:04d},"note ""{i}"""')
PY

ctl() { "$CXW_BIN/cxonectl" "$@"; }

count_updates() {
  dump_topic cxone.contact-updates "$T/src.json"
  wc -l <"$T/src.json"
}

log "--strict refuses the unknown columns before producing anything"
rc=0
ctl contacts import "$T/crm.csv" --strict --batch-id strict >"$T/strict.out" 2>"$T/strict.err" || rc=$?
[ "$rc" = 1 ] || fail "--strict: exit $rc, want 1"
grep -q "unknown columns: Company, Phone, Notes" "$T/strict.err" || fail "--strict: $(cat "$T/strict.err")"
[ "$(count_updates)" = 0 ] || fail "--strict produced messages"

log "by default the unknown columns are ignored, named once"
rc=0
ctl contacts import "$T/crm.csv" --batch-id crm --wait --timeout 120 >"$T/crm.out" 2>"$T/crm.err" || rc=$?
[ "$rc" = 0 ] || fail "import: exit $rc: $(cat "$T/crm.out" "$T/crm.err")"
grep -q "Succeeded 199 | Rejected 0 | Failed 0" "$T/crm.out" || fail "summary: $(cat "$T/crm.out")"
[ "$(grep -c "ignoring columns: Company, Phone, Notes" "$T/crm.err")" = 1 ] ||
  fail "ignored columns not named once: $(cat "$T/crm.err")"
dump_topic cxone.contact-updates "$T/src.json"
dump_topic cxone.dlq "$T/dlq.json"
[ ! -s "$T/dlq.json" ] || fail "DLQ records for a clean import: $(head -n 3 "$T/dlq.json")"
python3 - "$T/src.json" <<'PY' || fail "the requests carry ignored columns"
import json, sys
msgs = [json.loads(json.loads(l)["value"]) for l in open(sys.argv[1])]
assert len(msgs) == 199, len(msgs)
for v in msgs:
    assert set(v) == {"contactId", "firstName", "lastName", "email"}, v
print("check: 199 requests, each with contactId, firstName, lastName, email only")
PY
sim_get /_sim/contacts/crm-7 | grep -q '"email":"user7@example.com"' || fail "crm-7 not updated"

log "--map sends a column under an updatable field (the worker's configuration names phone)"
write_worker_conf "$T/w2.conf" 'rate = { rps = 0.0; };
cxone = { contacts = { fields = [ "firstName", "lastName", "email", "phone" ]; }; };'
stop_pid "$LAST_PID" 30 || fail "worker did not stop"
start_worker w2 "$T/w2.conf"
rc=0
ctl -c "$T/w2.conf" contacts import "$T/crm.csv" --map 'Phone=phone' --batch-id mapped --wait \
  --timeout 120 >"$T/map.out" 2>"$T/map.err" || rc=$?
[ "$rc" = 0 ] || fail "--map: exit $rc: $(cat "$T/map.out" "$T/map.err")"
grep -q "Succeeded 199 | Rejected 0 | Failed 0" "$T/map.out" || fail "--map summary: $(cat "$T/map.out")"
grep -q "ignoring columns: Company, Notes" "$T/map.err" || fail "--map: $(cat "$T/map.err")"
sim_get /_sim/contacts/crm-7 | grep -q '"phone":"+1 555 0007"' || fail "phone of crm-7 not sent"

log "a semicolon-separated file is named as such, and imports with --delimiter"
printf 'contactId;firstName;email\nsemi-1;Ann;ann@example.com\nsemi-2;Bob;not-an-address\nbad id;Cy;cy@example.com\n' >"$T/semi.csv"
rc=0
ctl contacts import "$T/semi.csv" --batch-id semi0 >"$T/semi0.out" 2>"$T/semi0.err" || rc=$?
[ "$rc" = 1 ] || fail "semicolons without --delimiter: exit $rc"
grep -q "looks semicolon-separated; import it with --delimiter ';'" "$T/semi0.err" ||
  fail "no delimiter hint: $(cat "$T/semi0.err")"
rc=0
ctl contacts import "$T/semi.csv" --delimiter ';' --batch-id semi --wait --timeout 120 \
  >"$T/semi.out" 2>"$T/semi.err" || rc=$?
# one rejected (e-mail) and one skipped (contactId): exit 3
[ "$rc" = 3 ] || fail "--delimiter ';': exit $rc, want 3: $(cat "$T/semi.out" "$T/semi.err")"
grep -q "Succeeded 1 | Rejected 1 | Failed 0" "$T/semi.out" || fail "semi summary: $(cat "$T/semi.out")"
grep -q "1 row skipped before sending" "$T/semi.out" || fail "skipped row not summed up: $(cat "$T/semi.out")"

log "a rejected row names its contactId in the outcome, the audit event and the DLQ headers"
ctl results --batch-id semi >"$T/results.out" 2>>"$T/ctl.log"
grep -q "contact-update rejected semi-2 " "$T/results.out" || fail "results: $(cat "$T/results.out")"
dump_topic cxone.audit "$T/audit.json"
dump_topic cxone.dlq "$T/dlq.json"
python3 - "$T/audit.json" "$T/dlq.json" <<'PY' || fail "the rejected row's contactId is missing"
import json, sys
aud = [json.loads(l) for l in open(sys.argv[1])]
rej = [m for m in aud if json.loads(m["value"])["action"] == "contact.rejected"]
assert len(rej) == 1 and rej[0]["key"] == "semi-2", rej
assert json.loads(rej[0]["value"])["contactId"] == "semi-2", rej
dlq = [json.loads(l) for l in open(sys.argv[2])]
assert len(dlq) == 1 and dlq[0]["headers"]["dlq-contact-id"] == "semi-2", dlq
print("check: audit key, audit contactId and dlq-contact-id name semi-2")
PY

log "a Latin-1 file is named as such once; its skipped rows make --wait exit 3"
printf 'contactId,firstName\nl-1,Ren\xe9e\nl-2,Zo\xeb\nl-3,Al\n' >"$T/latin1.csv"
rc=0
ctl contacts import "$T/latin1.csv" --batch-id latin1 --wait --timeout 60 >"$T/latin1.out" \
  2>"$T/latin1.err" || rc=$?
[ "$rc" = 3 ] || fail "Latin-1 rows skipped: exit $rc, want 3: $(cat "$T/latin1.out" "$T/latin1.err")"
grep -q "Succeeded 1 | Rejected 0 | Failed 0" "$T/latin1.out" || fail "latin1 summary: $(cat "$T/latin1.out")"
[ "$(grep -c "probably Latin-1 or Windows-1252" "$T/latin1.err")" = 1 ] ||
  fail "no single encoding hint: $(cat "$T/latin1.err")"
grep -q "latin1.csv:3: firstName is not valid UTF-8; row skipped" "$T/latin1.err" ||
  fail "second Latin-1 row not reported: $(cat "$T/latin1.err")"
log "PASS"
