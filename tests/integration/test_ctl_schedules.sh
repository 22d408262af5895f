#!/usr/bin/env bash
# ctest-label: asan
# test_ctl_schedules.sh: `cxonectl schedules import` against dev-kafka; there
# is no schedule worker yet, so the test plays the worker by producing
# outcomes itself with kproduce.
#
# What must hold:
#  - every import object of the file is one message on cxone.schedule-imports:
#    key = targetCalendarId, value = the element re-serialized compactly with
#    its members in the file's order, headers batch-id, correlation-id and
#    idempotency-key ("<batch>:<index>"); imports of one calendar keep their
#    order in one partition;
#  - a non-object element, or one without a scheduleEntries array, is reported
#    with its index and skipped; the rest still go;
#  - a file that is not JSON, or repeats a member, is refused before anything
#    is sent (exit 1);
#  - an import over 4 MiB, or over the producer's message.max.bytes, is
#    reported with its index and skipped; the rest still go;
#  - --wait without a worker ends after --timeout with exit 2 and the timeout
#    line;
#  - --wait counts each request's outcome once (by source offset, or by
#    correlation id when the outcome has no source), ignores other batches,
#    other types and non-JSON records, prints the summary and exits 0 when all
#    succeeded (with --verbose: the jobIds) and 3 when one was rejected, naming
#    its calendar, index and error;
#  - results shows the calendar and the jobId of schedule-import outcomes.
# Every wait is bounded; everything started is stopped on exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

CTL="$CXW_BIN/cxonectl"
SAMPLES="$CXW_SRC/config/samples/schedules.json"
NSAMPLES=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$SAMPLES")

expect_contains() { # file needle what
  grep -qF -- "$2" "$1" || { sed 's/^/    /' "$1" >&2; fail "$3: '$2' not in $1"; }
}

start_kafka 3

# ---- the samples plus two bad elements -------------------------------------
# Index NSAMPLES is a string, NSAMPLES+1 an object without scheduleEntries.
python3 - "$SAMPLES" "$T/in.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d.append("not an import")
d.append({"targetCalendarId": "cal-x", "validationMode": "STRICT"})
json.dump(d, open(sys.argv[2], "w"), indent=2)
PY

rc=0
timeout 60 "$CTL" schedules import "$T/in.json" --batch-id s1 >"$T/imp.out" 2>"$T/imp.log" || rc=$?
[ "$rc" -eq 0 ] || fail "import exit code $rc, expected 0"
[ "$(head -n 1 "$T/imp.out")" = "s1" ] || fail "stdout's first line is not the batch id"
expect_contains "$T/imp.log" "$T/in.json #$NSAMPLES: a string, not an import object; skipped" \
  "non-object element reported with its index"
expect_contains "$T/imp.log" "$T/in.json #$((NSAMPLES + 1)): no scheduleEntries; skipped" \
  "element without scheduleEntries reported with its index"
expect_contains "$T/imp.log" "batch s1: produced $NSAMPLES, skipped 2" "import summary"

dump_topic cxone.schedule-imports "$T/dump.json" || fail "topic dump"
python3 - "$SAMPLES" "$T/dump.json" <<'PY' || fail "dumped messages differ from the file"
import json, sys
want = json.load(open(sys.argv[1]))
msgs = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
ok = True
def bad(*a):
    global ok
    print(*a); ok = False
if len(msgs) != len(want):
    bad(f"expected {len(want)} messages, found {len(msgs)}")
by_index = {}
for m in msgs:
    h = m.get("headers") or {}
    corr = h.get("correlation-id", "")
    if h.get("batch-id") != "s1" or not corr.startswith("s1:"):
        bad("bad batch-id/correlation-id:", h); continue
    if h.get("idempotency-key") != corr:
        bad("idempotency-key is not the correlation id:", h)
    by_index[int(corr.split(":", 1)[1])] = m
for i, el in enumerate(want):
    m = by_index.get(i)
    if m is None:
        bad(f"no message for #{i}"); continue
    if m["topic"] != "cxone.schedule-imports" or m["key"] != el["targetCalendarId"]:
        bad(f"#{i}: topic/key {m['topic']}/{m['key']}")
    # Compact, and the members in the file's order.
    if m["value"] != json.dumps(el, separators=(",", ":"), ensure_ascii=False):
        bad(f"#{i}: value {m['value'][:200]}")
# Imports of one calendar: one partition, in file order.
cals = {}
for i, el in enumerate(want):
    if i in by_index:
        cals.setdefault(el["targetCalendarId"], []).append(by_index[i])
for cal, ms in cals.items():
    if len({m["partition"] for m in ms}) != 1 or \
       [m["offset"] for m in ms] != sorted(m["offset"] for m in ms):
        bad(f"{cal}: not in one partition in file order")
sys.exit(0 if ok else 1)
PY

# ---- files refused before anything is sent ---------------------------------
printf '[{"scheduleEntries": []},' >"$T/trunc.json"
rc=0
timeout 30 "$CTL" schedules import "$T/trunc.json" >"$T/trunc.out" 2>"$T/trunc.log" || rc=$?
[ "$rc" -eq 1 ] || fail "a truncated file: exit code $rc, expected 1"
expect_contains "$T/trunc.log" "$T/trunc.json:1:" "a JSON error names file and line"
[ -s "$T/trunc.out" ] && fail "a refused file still printed a batch id"
printf '{"targetCalendarId":"a","targetCalendarId":"b","scheduleEntries":[]}' >"$T/dup.json"
rc=0
timeout 30 "$CTL" schedules import "$T/dup.json" >/dev/null 2>"$T/dup.log" || rc=$?
[ "$rc" -eq 1 ] || fail "a repeated member: exit code $rc, expected 1"
expect_contains "$T/dup.log" "duplicate object key" "a repeated member is named"
rc=0
timeout 30 "$CTL" schedules import "$T/missing.json" >/dev/null 2>"$T/missing.log" || rc=$?
[ "$rc" -eq 1 ] || fail "a missing file: exit code $rc, expected 1"
dump_topic cxone.schedule-imports "$T/dump2.json" || fail "topic dump"
[ "$(wc -l <"$T/dump2.json")" -eq "$NSAMPLES" ] || fail "a refused file sent something"

# ---- oversized elements are skipped, the others still go ------------------
# #0 is over cxonectl's 4 MiB per import; #1 (2 MiB) over the producer's
# default message.max.bytes (1000000); #2 is small.
python3 - "$T/big.json" <<'PY'
import json, sys
def imp(cal, reason_bytes):
    return {"targetCalendarId": cal, "scheduleEntries": [
        {"agentId": "a-1", "startDateTime": "2026-03-02T08:00:00Z",
         "endDateTime": "2026-03-02T16:00:00Z",
         "availabilityOverrides": [{"type": "AVAILABLE", "reason": "x" * reason_bytes}]}]}
json.dump([imp("cal-huge", 5 << 20), imp("cal-big", 2 << 20), imp("cal-small", 10)],
          open(sys.argv[1], "w"))
PY
rc=0
timeout 60 "$CTL" schedules import "$T/big.json" --batch-id big >/dev/null 2>"$T/big.log" || rc=$?
[ "$rc" -eq 0 ] || fail "oversized elements: exit code $rc, expected 0"
expect_contains "$T/big.log" "$T/big.json #0: 5243" "an import over 4 MiB is reported with its index"
expect_contains "$T/big.log" "over the limit of 4 MiB per import; skipped" "the 4 MiB limit is named"
expect_contains "$T/big.log" "$T/big.json #1: 2097" "an import over message.max.bytes is reported with its index"
expect_contains "$T/big.log" "message.max.bytes" "message.max.bytes is named"
expect_contains "$T/big.log" "batch big: produced 1, skipped 2" "the small import still goes"

# ---- --wait without a worker: exit 2 after the timeout ---------------------
printf '{"targetCalendarId":"cal-one","scheduleEntries":[]}\n' >"$T/one.json"
start=$SECONDS
rc=0
timeout 60 "$CTL" schedules import "$T/one.json" --wait --timeout 3 --quiet \
  >"$T/to.out" 2>"$T/to.log" || rc=$?
[ "$rc" -eq 2 ] || fail "--wait without a worker: exit code $rc, expected 2"
expect_contains "$T/to.out" "Succeeded 0 | Rejected 0 | Failed 0" "--wait timeout summary"
expect_contains "$T/to.out" "timed out waiting for 1 outcomes" "--wait timeout line"
[ $((SECONDS - start)) -le 30 ] || fail "--wait --timeout 3 took $((SECONDS - start)) s"

# ---- --wait with a simulated worker ----------------------------------------
# wait_import BATCH ARGS...: starts an import of the samples with --wait in
# the background (sets WAIT_PID) and waits until its requests are in the
# topic, which is after it has positioned itself at the end of cxone.results.
wait_import() {
  local batch=$1; shift
  "$CTL" schedules import "$SAMPLES" --batch-id "$batch" --wait --timeout 60 "$@" \
    >"$T/$batch.out" 2>"$T/$batch.log" &
  WAIT_PID=$!
  PIDS+=("$WAIT_PID")
  have_batch() {
    dump_topic cxone.schedule-imports "$T/dump-$batch.json" &&
      [ "$(grep -c "\"batch-id\":\"$batch\"" "$T/dump-$batch.json")" -eq "$NSAMPLES" ]
  }
  wait_until 30 have_batch || fail "batch $batch's requests did not arrive"
}

# outcomes BATCH REJECT_INDEX: the outcomes a worker would write for BATCH
# (KEY<TAB>VALUE lines), index REJECT_INDEX rejected (-1: none), plus what
# --wait must not count: a duplicate of #0's outcome saying "failed", an
# outcome of another batch, one of another type, and a record that is not
# JSON. #1's outcome carries no source (matched by its correlation id).
outcomes() {
  python3 - "$T/dump-$1.json" "$1" "$2" <<'PY'
import json, sys
dump, batch, reject = sys.argv[1], sys.argv[2], int(sys.argv[3])
msgs = [json.loads(l) for l in open(dump, encoding="utf-8") if l.strip()]
mine = sorted((m for m in msgs if m["headers"].get("batch-id") == batch),
              key=lambda m: int(m["headers"]["correlation-id"].split(":")[1]))
def out(m, status, **extra):
    i = int(m["headers"]["correlation-id"].split(":")[1])
    o = {"type": "schedule-import", "status": status, "httpStatus": 202,
         "attempts": 1, "error": None, "batchId": batch,
         "correlationId": m["headers"]["correlation-id"],
         "source": {"topic": m["topic"], "partition": m["partition"],
                    "offset": m["offset"]},
         "latencyMs": 5, "finishedAt": "2026-11-21T07:00:00.000Z"}
    if status == "succeeded":
        o["jobId"] = f"job-{batch}-{i}"
        o["jobStatus"] = "COMPLETED"
    else:
        o["httpStatus"] = None
        o["attempts"] = 0
        o["error"] = f"scheduleEntries[0]: breaks[1] ends after the shift (#{i})"
    o.update(extra)
    if o.get("source") is None:
        del o["source"]
    print(f"{m['key']}\t{json.dumps(o)}")
for i, m in enumerate(mine):
    status = "rejected" if i == reject else "succeeded"
    if i == 1:
        out(m, status, source=None)
    else:
        out(m, status)
    if i == 0:
        out(m, "failed", error="duplicate")                       # counted once
        out(m, "failed", batchId="other-batch")                   # not ours
        out(m, "failed", type="contact-update")                   # not ours
        print(f"{m['key']}\tnot json at all")                     # skipped
PY
}

# All succeeded: exit 0, --verbose shows every jobId.
wait_import w1 --verbose
outcomes w1 -1 >"$T/w1.in"
"$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.results <"$T/w1.in" \
  2>>"$T/kproduce.log" || fail "kproduce"
rc=0
wait "$WAIT_PID" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/w1.out" "$T/w1.log" >&2; fail "--wait, all succeeded: exit code $rc, expected 0"; }
expect_contains "$T/w1.out" "Succeeded $NSAMPLES | Rejected 0 | Failed 0" "--wait summary (all succeeded)"
expect_contains "$T/w1.out" "  cal-2026-03.frontline (#0): succeeded: jobId job-w1-0" "--verbose jobId"
expect_contains "$T/w1.out" "  cal-2026-03.support (#1): succeeded: jobId job-w1-1" "--verbose jobId (matched by correlation id)"
expect_contains "$T/w1.log" "not JSON" "a non-JSON record is reported"

# One rejected: exit 3, the rejected import named with index and error.
wait_import w2
outcomes w2 2 >"$T/w2.in"
"$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.results <"$T/w2.in" \
  2>>"$T/kproduce.log" || fail "kproduce"
rc=0
wait "$WAIT_PID" || rc=$?
[ "$rc" -eq 3 ] || { cat "$T/w2.out" "$T/w2.log" >&2; fail "--wait, one rejected: exit code $rc, expected 3"; }
expect_contains "$T/w2.out" "Succeeded $((NSAMPLES - 1)) | Rejected 1 | Failed 0" "--wait summary (one rejected)"
expect_contains "$T/w2.out" \
  "  cal-2026-03.nights (#2): rejected: scheduleEntries[0]: breaks[1] ends after the shift (#2)" \
  "the rejected import's line"
[ "$(grep -c '^  ' "$T/w2.out")" -eq 1 ] || fail "without --verbose only the rejected import is listed"

# ---- results shows the calendar and the jobId ------------------------------
rc=0
timeout 60 "$CTL" results --batch-id w2 >"$T/res.out" 2>"$T/res.log" || rc=$?
[ "$rc" -eq 0 ] || fail "results exit code $rc"
expect_contains "$T/res.out" \
  "2026-11-21T07:00:00.000Z schedule-import succeeded cal-2026-03.frontline job=job-w2-0 http=202 attempts=1 batch=w2" \
  "results line of a succeeded import"
expect_contains "$T/res.out" "schedule-import rejected cal-2026-03.nights job=- http=- attempts=0 batch=w2 " \
  "results line of a rejected import"

log "all checks passed"
