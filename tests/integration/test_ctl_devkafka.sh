#!/usr/bin/env bash
# ctest-label: asan
# test_ctl_devkafka.sh: cxonectl against its own dev-kafka, no worker.
#
# What must hold:
#  - dev-kafka prints its bootstrap servers as the first stdout line;
#  - contacts import publishes one message per good row with key = contactId,
#    value = the mapped JSON, headers batch-id and correlation-id
#    ("<batch>:<line>"), and reports bad rows with file:line, skipping them;
#  - a generated batch id has the documented form;
#  - --wait without a worker times out with exit code 2 and says so;
#  - results on an empty results topic ends with the zero summary;
#  - with --control, good fault lines are answered ok, bad ones refused, and
#    the cluster serves on after its control input ends.
# Every wait is bounded; dev-kafka is stopped on exit.
set -u

CXW_BIN=${CXW_BIN:?CXW_BIN must point at the build bin directory}
CTL="$CXW_BIN/cxonectl"
WORK=$(mktemp -d /tmp/test_ctl_devkafka.XXXXXX)
DK_PID=
FAILS=0

cleanup() {
        if [ -n "$DK_PID" ] && kill -0 "$DK_PID" 2>/dev/null; then
                kill -TERM "$DK_PID" 2>/dev/null
                for _ in $(seq 50); do
                        kill -0 "$DK_PID" 2>/dev/null || break
                        sleep 0.1
                done
                kill -KILL "$DK_PID" 2>/dev/null
        fi
        rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
        echo "FAIL: $*" >&2
        FAILS=$((FAILS + 1))
}

expect_contains() { # file needle what
        grep -qF -- "$2" "$1" || { fail "$3: '$2' not in $1:"; sed 's/^/    /' "$1" >&2; }
}

# ---- dev-kafka -------------------------------------------------------------
"$CTL" dev-kafka --partitions 3 >"$WORK/dk.out" 2>"$WORK/dk.err" &
DK_PID=$!
for _ in $(seq 150); do
        [ -s "$WORK/dk.out" ] && break
        kill -0 "$DK_PID" 2>/dev/null || break
        sleep 0.1
done
BOOTSTRAP=$(head -n 1 "$WORK/dk.out")
if ! [[ "$BOOTSTRAP" =~ ^127\.0\.0\.1:[0-9]+ ]]; then
        echo "FAIL: dev-kafka printed no bootstrap line; stderr:" >&2
        cat "$WORK/dk.err" >&2
        exit 1
fi
export KAFKA_BOOTSTRAP_SERVERS=$BOOTSTRAP
echo "dev-kafka at $BOOTSTRAP"

# ---- contacts import -------------------------------------------------------
CSV="$WORK/contacts.csv"
# line 1 header (aliases and a column to ignore), 2 plain, 3 quoted comma,
# 4-5 embedded newline, 6 bad contactId, 7 empty line, 8 too few fields,
# 9 same contact again, empty values kept.
printf '%s\n' \
        'Contact ID,first_name,Surname,E-Mail,tier' \
        'c1,Ann,Lee,ann@example.com,gold' \
        'c2,"Bob, Jr.",Ray,bob@example.com,' \
        'c3,Cy,"Two' \
        'Lines",cy@example.com,x' \
        'bad id!,Dan,Fox,dan@example.com,y' \
        '' \
        'c4,Eve' \
        'c1,,,ann@new.example.com,' >"$CSV"

timeout 60 "$CTL" contacts import "$CSV" --batch-id test-b1 >"$WORK/imp.out" 2>"$WORK/imp.err"
rc=$?
[ "$rc" -eq 0 ] || fail "import exit code $rc, expected 0"
[ "$(head -n 1 "$WORK/imp.out")" = "test-b1" ] || fail "import stdout first line is not the batch id"
expect_contains "$WORK/imp.err" "$CSV:6: contactId 'bad id!'" "bad contactId reported with its line"
expect_contains "$WORK/imp.err" "$CSV:8: expected 5 fields, found 2" "short row reported with its line"
expect_contains "$WORK/imp.err" "batch test-b1: produced 4, skipped 2" "import summary"
expect_contains "$WORK/imp.err" "$CSV: ignoring columns: tier" "ignored column named"

timeout 60 "$CTL" topic dump cxone.contact-updates >"$WORK/dump.out" 2>"$WORK/dump.err"
rc=$?
[ "$rc" -eq 0 ] || fail "topic dump exit code $rc"
# The dump is one JSON object per message (topic, partition, offset, key,
# headers, value); compare what matters.
python3 - "$WORK/dump.out" <<'PY' || fail "dumped messages differ from the CSV rows"
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
want = [  # (line, key, value) in CSV order
    (2, "c1", {"contactId": "c1", "firstName": "Ann", "lastName": "Lee",
               "email": "ann@example.com"}),
    (3, "c2", {"contactId": "c2", "firstName": "Bob, Jr.", "lastName": "Ray",
               "email": "bob@example.com"}),
    (4, "c3", {"contactId": "c3", "firstName": "Cy", "lastName": "Two\nLines",
               "email": "cy@example.com"}),
    (9, "c1", {"contactId": "c1", "firstName": "", "lastName": "",
               "email": "ann@new.example.com"}),
]
ok = True
if len(msgs) != len(want):
    print(f"expected {len(want)} messages, found {len(msgs)}"); ok = False
by_line = {}
for m in msgs:
    h = m.get("headers") or {}
    if h.get("batch-id") != "test-b1":
        print("bad batch-id header:", m); ok = False
    corr = h.get("correlation-id", "")
    if not corr.startswith("test-b1:"):
        print("bad correlation-id header:", m); ok = False
        continue
    by_line[int(corr.split(":")[1])] = m
for line, key, value in want:
    m = by_line.get(line)
    if m is None:
        print(f"no message for line {line}"); ok = False; continue
    if m["topic"] != "cxone.contact-updates" or m["key"] != key:
        print(f"line {line}: topic/key {m['topic']}/{m['key']}"); ok = False
    got = json.loads(m["value"])
    if got != value or list(got)[0] != "contactId":
        print(f"line {line}: value {m['value']}"); ok = False
# The two updates of c1 share a partition and keep CSV order.
a, b = by_line.get(2), by_line.get(9)
if a and b and not (a["partition"] == b["partition"] and a["offset"] < b["offset"]):
    print("c1's updates are not in one partition in CSV order"); ok = False
sys.exit(0 if ok else 1)
PY

# A generated batch id: batch-<yyyymmddThhmmss>-<6 hex>.
printf 'id,email\nc9,c9@example.com\n' >"$WORK/one.csv"
timeout 60 "$CTL" contacts import "$WORK/one.csv" --quiet >"$WORK/gen.out" 2>"$WORK/gen.err"
rc=$?
[ "$rc" -eq 0 ] || fail "import (generated id) exit code $rc"
GEN=$(head -n 1 "$WORK/gen.out")
[[ "$GEN" =~ ^batch-[0-9]{8}T[0-9]{6}-[0-9a-f]{6}$ ]] || fail "generated batch id '$GEN'"
[ -s "$WORK/gen.err" ] && fail "--quiet still wrote: $(cat "$WORK/gen.err")"

# ---- --wait without a worker: a bounded timeout, exit 2 --------------------
kill -0 "$DK_PID" 2>/dev/null || fail "dev-kafka is no longer running"
start=$(date +%s)
timeout 60 "$CTL" contacts import "$WORK/one.csv" --wait --timeout 3 >"$WORK/wait.out" 2>"$WORK/wait.err"
rc=$?
took=$(($(date +%s) - start))
[ "$rc" -eq 2 ] || fail "--wait without a worker: exit code $rc, expected 2"
expect_contains "$WORK/wait.out" "Succeeded 0 | Rejected 0 | Failed 0" "--wait summary"
expect_contains "$WORK/wait.out" "timed out waiting for 1 outcomes" "--wait timeout line"
[ "$took" -le 30 ] || fail "--wait --timeout 3 took ${took}s"

# ---- results on an empty results topic -------------------------------------
timeout 60 "$CTL" results >"$WORK/res.out" 2>"$WORK/res.err"
rc=$?
[ "$rc" -eq 0 ] || fail "results exit code $rc"
expect_contains "$WORK/res.out" "Succeeded 0 | Rejected 0 | Failed 0" "results summary"

# ---- errors ----------------------------------------------------------------
timeout 30 "$CTL" contacts import "$WORK/missing.csv" >/dev/null 2>&1
[ $? -eq 1 ] || fail "a missing file must exit 1"
timeout 30 "$CTL" contacts import "$CSV" --timeout x >/dev/null 2>&1
[ $? -eq 1 ] || fail "a bad --timeout must exit 1"
printf 'first,last\nA,B\n' >"$WORK/noid.csv"
timeout 30 "$CTL" contacts import "$WORK/noid.csv" >/dev/null 2>"$WORK/noid.err"
[ $? -eq 1 ] || fail "a CSV without a contactId column must exit 1"
expect_contains "$WORK/noid.err" "no contactId column" "missing contactId column"

# ---- dev-kafka stops on SIGTERM with exit code 0 ---------------------------
kill -TERM "$DK_PID"
for _ in $(seq 100); do
        kill -0 "$DK_PID" 2>/dev/null || break
        sleep 0.1
done
if kill -0 "$DK_PID" 2>/dev/null; then
        fail "dev-kafka still running 10 s after SIGTERM"
else
        wait "$DK_PID"
        rc=$?
        [ "$rc" -eq 0 ] || fail "dev-kafka exit code $rc after SIGTERM"
        DK_PID=
fi

# ---- dev-kafka --control: the fault suite's broker control -----------------
# Each good line is answered 'ok: LINE' on stdout, each bad one 'error: ...'
# on stderr; at the end of stdin control stops and the cluster serves on.
printf '%s\n' "broker down 1" "broker up all" "broker rtt all 5" "request-errors 0 7 1" \
        "broker down 2" "nonsense" "broker down" >"$WORK/ctl.in"
"$CTL" dev-kafka --partitions 2 --control <"$WORK/ctl.in" >"$WORK/dkc.out" 2>"$WORK/dkc.err" &
DK_PID=$!
for _ in $(seq 150); do
        [ "$(grep -c '^ok: ' "$WORK/dkc.out")" -ge 4 ] &&
                [ "$(grep -c '^error: ' "$WORK/dkc.err")" -ge 3 ] && break
        kill -0 "$DK_PID" 2>/dev/null || break
        sleep 0.1
done
for l in "broker down 1" "broker up all" "broker rtt all 5" "request-errors 0 7 1"; do
        expect_contains "$WORK/dkc.out" "ok: $l" "control line '$l'"
done
[ "$(grep -c '^ok: ' "$WORK/dkc.out")" -eq 4 ] || fail "control: a bad line was answered ok"
for l in "broker down 2" "nonsense" "broker down"; do
        expect_contains "$WORK/dkc.err" "error: '$l'" "bad control line '$l'"
done
if KAFKA_BOOTSTRAP_SERVERS=$(head -n 1 "$WORK/dkc.out") timeout 30 "$CTL" topic dump \
        cxone.results >"$WORK/dkc.dump" 2>"$WORK/dkc.dump.err"; then
        echo "ok: dev-kafka --control took 4 lines, refused 3, and serves on"
else
        fail "dev-kafka does not serve after its control input ended"
fi
kill -TERM "$DK_PID"
for _ in $(seq 100); do
        kill -0 "$DK_PID" 2>/dev/null || break
        sleep 0.1
done
if ! kill -0 "$DK_PID" 2>/dev/null; then
        wait "$DK_PID"
        rc=$?
        DK_PID=
        [ "$rc" -eq 0 ] || fail "dev-kafka --control exit code $rc after SIGTERM"
else
        fail "dev-kafka --control still running 10 s after SIGTERM" # cleanup kills it
fi

if [ "$FAILS" -gt 0 ]; then
        echo "$FAILS check(s) failed; dev-kafka's stderr (last lines):" >&2
        tail -n 20 "$WORK/dk.err" >&2
        exit 1
fi
echo "all checks passed"
