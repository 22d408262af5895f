#!/usr/bin/env bash
# ctest-label: asan
# Faults on: 5% 5xx, 1% dropped connections, tokens living 3 s, a simulator
# rate limit below the offered load (the worker's budget set 5x above it):
# zero failed, zero lost. Neither the client secret nor any access token
# issued appears in the logs, outcomes, audit events or DLQ records.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start_kafka 6
start_sim --error-rate 0.05 --drop-rate 0.01 --token-ttl 3 --rate-limit 400 --burst 20 \
  --retry-after seconds --seed 7
write_worker_conf "$T/w.conf" 'token = { min_refresh_interval_ms = 1000; }; rate = { rps = 2000.0; burst = 100; }; http = { max_in_flight = 64; request_timeout_ms = 5000; };'
start_worker w1 "$T/w.conf"

python3 "$CXW_SRC/tests/integration/gen_contacts.py" 3000 1500 f >"$T/f.csv"
rc=0
"$CXW_BIN/cxonectl" contacts import "$T/f.csv" --batch-id faults --wait --timeout 300 \
  >"$T/import.out" 2>"$T/import.log" || rc=$?
cat "$T/import.out" >&2
[ $rc -eq 0 ] || fail "import --wait exited $rc"

dump_topic cxone.contact-updates "$T/src.json"
dump_topic cxone.results "$T/res.json"
check outcomes --source "$T/src.json" --results "$T/res.json" --max-failed 0 --max-rejected 0
check contacts --source "$T/src.json" --results "$T/res.json" --sim "$CXONE_BASE_URL"
sim_get /_sim/stats >"$T/stats.json"
python3 - "$T/stats.json" <<'PY' || fail "the faults did not happen"
import json, sys
s = json.load(open(sys.argv[1]))
r = s["requests"]
fives = sum(v for k, v in r.items() if k.startswith("5"))
print("check: sim saw", {"5xx": fives, "dropped": s["dropped"], "429": s["rateLimited"], "tokenFetches": s["tokenFetches"]})
assert fives > 0 and s["dropped"] > 0, "faults were not injected"
assert s["tokenFetches"] >= 2, "tokens living 3 s were not refreshed"
PY
dump_topic cxone.audit "$T/audit.json"
dump_topic cxone.dlq "$T/dlq.json"
[ -n "$(token_args)" ] || fail "the simulator lists no token"
# shellcheck disable=SC2046
check nosecret "$T"/*.log "$T"/*.json --secret "$CXONE_CLIENT_SECRET" $(token_args)
log "PASS"
