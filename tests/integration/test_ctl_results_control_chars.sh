#!/usr/bin/env bash
# ctest-label: asan
# test_ctl_results_control_chars.sh: `cxonectl results` prints no control
# character of a record (security finding 6: CXone's job error text and
# unknown job statuses reach the outcomes; a record on the results topic is
# anyone's bytes).
#
# What must hold: outcome records whose texts (finishedAt, type, status,
# targetCalendarId, jobId, contactId, batchId, error, the message key) hold
# terminal escapes, BEL, CR, DEL, C1 controls and non-ASCII are printed one
# line each with every byte outside printable ASCII as '?' (a status that
# is not one of the three is printed, counted in none); the output has
# no byte below 0x20 but the newlines and none above 0x7e; an over-long
# error ends in "..."; a record that is not JSON is warned about with a
# printable reason.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

CTL="$CXW_BIN/cxonectl"
start_kafka 1

python3 - >"$T/in" <<'PY'
import json
esc = "\u001b[2J\u001b]0;pwned\u0007"
recs = [
    ("cal\u001b[31m", {"type": "schedule-import", "status": "failed",
                       "jobId": "job-1", "httpStatus": 202, "attempts": 1,
                       "batchId": "b\u001b[0m1", "finishedAt": "2026-11-21T07:00:00.000Z",
                       "error": "job job-1 ended FAILED: " + esc + "bad\r\nline\u007f\u009b\u00e9"}),
    ("k", {"type": "schedule-import", "status": "rejected\u0007",
           "targetCalendarId": "cal\u001b]2;t\u0007", "jobId": "job\u001b[1m",
           "batchId": "b1", "finishedAt": "2026\u001b[K", "error": "x" * 5000}),
    ("c", {"type": "contact-update\u001b[8m", "status": "failed",
           "contactId": "c\u001b1\u0085", "batchId": "b1", "error": None}),
]
for key, v in recs:
    print(key + "\t" + json.dumps(v))
# not JSON: jansson's reason quotes it
print("k2\t\u001b[2Jnot json")
PY
"$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.results <"$T/in" \
  2>"$T/kproduce.log" || fail "kproduce"

rc=0
timeout 60 "$CTL" results >"$T/res.out" 2>"$T/res.log" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/res.log" >&2; fail "results exit code $rc"; }
log "results: $(wc -l <"$T/res.out") lines"

python3 - "$T/res.out" "$T/res.log" <<'PY' || fail "control characters in the output"
import sys
out = open(sys.argv[1], "rb").read()
err = open(sys.argv[2], "rb").read()
for name, data in (("stdout", out), ("stderr", err)):
    bad = sorted({b for b in data if (b < 0x20 and b != 0x0A) or b > 0x7E})
    if bad:
        sys.exit(f"{name} holds bytes {bad}")
lines = out.decode().splitlines()
want = [
    "2026-11-21T07:00:00.000Z schedule-import failed cal?[31m job=job-1 http=202 "
    "attempts=1 batch=b?[0m1 job job-1 ended FAILED: ?[2J?]0;pwned?bad??line?????",
    "2026?[K schedule-import rejected? cal?]2;t? job=job?[1m http=- attempts=- batch=b1 "
    + "x" * 4096 + "...",
    "- contact-update?[8m failed c?1?? http=- attempts=- batch=b1",
]
for w in want:
    if w not in lines:
        sys.exit(f"missing line: {w[:120]}\nin: {lines}")
if not any(l.startswith("Succeeded 0 | Rejected 0 | Failed 2") for l in lines):
    sys.exit(f"summary: {lines[-1:]}")
if b"skipped" not in err:
    sys.exit("no warning about the records that are not JSON")
PY

log "all checks passed"
