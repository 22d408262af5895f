#!/usr/bin/env bash
# ctest-label: asan
# Security finding 1: a large rejected message must not stall its partition.
# Its DLQ copy (value + the request's headers + dlq-*) could exceed the
# producer's message.max.bytes; produce failed, was retried every second
# forever, the job never completed and the offset never moved.
#
# On one partition: a good update; a 1,040,000-byte invalid message (over
# limits.max_message_bytes: rejected unread, its DLQ copy has no value and
# dlq-truncated=1040000); a 975,000-byte invalid one under the limit but
# with a 30 KB header, so its copy would not fit whole (the copy keeps the
# first bytes of the value that fit, dlq-truncated=975000); a good update.
# Every one gets its outcome, the copies exist, and the offset moves: a
# new replica after a stop repeats none of them and does the next message.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start_kafka 1
start_sim
write_worker_conf "$T/w.conf" 'rate = { rps = 0.0; };'
KP=("$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.contact-updates
  -X message.max.bytes=4000000)

python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
with open(f"{t}/a.txt", "w") as f:
    f.write('g-1\t{"contactId":"g-1","firstName":"Ann"}\n')
    f.write("big-1\t" + "x" * 1040000 + "\n")
with open(f"{t}/b.txt", "w") as f:
    f.write("big-2\t" + "y" * 975000 + "\n")
with open(f"{t}/c.txt", "w") as f:
    f.write('g-2\t{"contactId":"g-2","firstName":"Bo"}\n')
with open(f"{t}/d.txt", "w") as f:
    f.write('g-3\t{"contactId":"g-3","firstName":"Cy"}\n')
with open(f"{t}/hdr", "w") as f:
    f.write("z" * 30000)
PY
"${KP[@]}" -H batch-id=big <"$T/a.txt" 2>>"$T/kproduce.log" || fail "kproduce a"
"${KP[@]}" -H batch-id=big -H "bulky=$(cat "$T/hdr")" <"$T/b.txt" 2>>"$T/kproduce.log" || fail "kproduce b"
"${KP[@]}" -H batch-id=big <"$T/c.txt" 2>>"$T/kproduce.log" || fail "kproduce c"

start_worker w1 "$T/w.conf"
W1=$LAST_PID
has() {
  dump_topic cxone.results "$T/res.json"
  [ "$(wc -l <"$T/res.json")" -ge "$1" ]
}
wait_until 60 has 4 || fail "not every message got an outcome (the partition stalled?)"
dlq_has() {
  dump_topic cxone.dlq "$T/dlq.json"
  [ "$(wc -l <"$T/dlq.json")" -ge 2 ]
}
wait_until 30 dlq_has || fail "the DLQ copies of the large messages were not written"

python3 - "$T/res.json" "$T/dlq.json" <<'PY' || fail "outcomes or DLQ copies differ from what was expected"
import json, sys
res = {}
for line in open(sys.argv[1]):
    v = json.loads(json.loads(line)["value"])
    res[v["source"]["offset"]] = v
expect = [("succeeded", None), ("rejected", "message is 1040000 bytes, over the limit of 983040"),
          ("rejected", "invalid JSON"), ("succeeded", None)]
ok = True
for off, (status, reason) in enumerate(expect):
    v = res.get(off)
    good = v is not None and v["status"] == status and (reason is None or reason in (v["error"] or ""))
    print(f"offset {off}: {v and v['status']} {v and v['error']!r} {'ok' if good else 'UNEXPECTED'}")
    ok &= good
dlq = {}
for line in open(sys.argv[2]):
    m = json.loads(line)
    dlq[int(m["headers"]["dlq-source-offset"])] = m
for off, size, ch in ((1, 1040000, "x"), (2, 975000, "y")):
    m = dlq.get(off)
    if m is None:
        print(f"offset {off}: no DLQ copy"); ok = False; continue
    h = m["headers"]
    val = m["value"] or ""
    print(f"offset {off}: DLQ copy of {len(val)} bytes, dlq-truncated={h.get('dlq-truncated')}, "
          f"dlq-reason={h.get('dlq-reason')!r}, headers {sorted(h)}")
    ok &= h.get("dlq-truncated") == str(size) and h.get("dlq-status") == "rejected"
    ok &= bool(h.get("dlq-reason")) and h.get("batch-id") == "big"
    ok &= val == ch * len(val) and len(val) < size
if dlq.get(1) and (dlq[1]["value"] or "") != "":
    print("offset 1: the oversized value was copied"); ok = False
if dlq.get(2) and not (900000 < len(dlq[2]["value"] or "") < 975000 and "bulky" in dlq[2]["headers"]):
    print("offset 2: expected the value's first bytes that fit, with the request's headers"); ok = False
sys.exit(0 if ok else 1)
PY
grep -q "not delivered\|cannot queue a record" "$T/w1.log" && fail "a record was refused and retried"

# The offset moved past them: a stop commits it, a new replica repeats none
# of them and does the next message of the partition.
t0=$(date +%s%N)
stop_pid "$W1" 30 || fail "the replica did not exit 0"
log "stopped in $((($(date +%s%N) - t0) / 1000000)) ms"
"${KP[@]}" <"$T/d.txt" 2>>"$T/kproduce.log" || fail "kproduce d"
start_worker w2 "$T/w.conf"
W2=$LAST_PID
wait_until 60 has 5 || fail "the next message of the partition got no outcome"
sleep 1
stop_pid "$W2" 30 || fail "the second replica did not exit 0"
dump_topic cxone.contact-updates "$T/src.json"
dump_topic cxone.results "$T/res.json"
check outcomes --source "$T/src.json" --results "$T/res.json" --exactly-once --expect-rejected 2
log "PASS"
