#!/usr/bin/env bash
# 10,000 contact updates over 6 partitions through dev-kafka, one worker and
# cxone-sim: exactly one outcome per source offset, the simulator holds every
# succeeded update, no PATCH body carries contactId, repeated updates of one
# contact end with the last value produced, the worker stops cleanly on
# SIGTERM and nothing logged or published carries the client secret.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start_kafka 6
start_sim --latency-ms 1
write_worker_conf "$T/w.conf" 'rate = { rps = 0.0; }; http = { max_in_flight = 64; };'
start_worker w1 "$T/w.conf"
W=$LAST_PID

python3 "$CXW_SRC/tests/integration/gen_contacts.py" 10000 4000 >"$T/big.csv"
rc=0
"$CXW_BIN/cxonectl" contacts import "$T/big.csv" --batch-id big10k --wait --timeout 300 \
  >"$T/import.out" 2>"$T/import.log" || rc=$?
cat "$T/import.out" >&2
[ $rc -eq 0 ] || fail "cxonectl contacts import --wait exited $rc"
grep -q "Succeeded 10000 | Rejected 0 | Failed 0" "$T/import.out" || fail "unexpected summary"

stop_pid "$W" 30 || fail "worker did not exit 0 on SIGTERM"
grep -q '"stopped: consumed 10000' "$T/w1.log" || grep -q 'stopped: consumed 10000' "$T/w1.log" \
  || fail "worker did not report 10000 consumed at exit"

dump_topic cxone.contact-updates "$T/src.json"
dump_topic cxone.results "$T/res.json"
dump_topic cxone.audit "$T/audit.json"
check outcomes --source "$T/src.json" --results "$T/res.json" --exactly-once --max-failed 0 --max-rejected 0
check contacts --source "$T/src.json" --results "$T/res.json" --sim "$CXONE_BASE_URL"
check audit --audit "$T/audit.json" --source "$T/src.json"
sim_get /_sim/stats >"$T/stats.json"
python3 - "$T/stats.json" <<'PY' || fail "simulator stats"
import json, sys
s = json.load(open(sys.argv[1]))
print("check: sim stats", {k: s[k] for k in ("contactsApplied", "patchBodiesWithContactId", "maxConcurrency", "tokenFetches")})
assert s["patchBodiesWithContactId"] == 0, "a PATCH body carried contactId"
assert s["contactsApplied"] >= 10000, "fewer PATCHes applied than updates"
assert s["tokenFetches"] >= 1
assert s["maxConcurrency"] > 1, "no parallelism seen"
PY
check nosecret "$T"/*.log "$T"/*.json --secret "$CXONE_CLIENT_SECRET"
log "PASS"
