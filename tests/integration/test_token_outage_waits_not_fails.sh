#!/usr/bin/env bash
# The token endpoint down: requests wait, consumption pauses at the buffer
# limit, nothing is failed for it; when the endpoint comes back every
# request succeeds.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start_kafka 3
start_sim --token-fail-rate 1
write_worker_conf "$T/w.conf" 'rate = { rps = 0.0; }; limits = { max_buffered_messages = 50; };'
start_worker w1 "$T/w.conf"
W=$LAST_PID

python3 "$CXW_SRC/tests/integration/gen_contacts.py" 300 300 t >"$T/t.csv"
"$CXW_BIN/cxonectl" contacts import "$T/t.csv" --batch-id tok >"$T/import.out" 2>"$T/import.log" \
  || fail "import failed"

wait_until 30 grep -q "paused consumption" "$T/w1.log" || fail "consumption did not pause at the buffer limit"
wait_until 30 grep -q "token fetch failed" "$T/w1.log" || fail "no token failure logged"
sleep 3
dump_topic cxone.results "$T/res0.json"
[ ! -s "$T/res0.json" ] || fail "outcomes were published while no token could be had: $(head -3 "$T/res0.json")"
applied=$(sim_get /_sim/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["contactsApplied"])')
[ "$applied" -eq 0 ] || fail "contacts applied without a token?"
log "token endpoint down: consumption paused, no outcome, nothing failed"

curl -fsS -X POST -d '{"tokenFailRate":0}' "$CXONE_BASE_URL/_sim/config" >/dev/null
done_all() {
  dump_topic cxone.results "$T/res.json"
  [ "$(wc -l <"$T/res.json")" -ge 300 ]
}
wait_until 90 done_all || fail "requests did not complete after the token endpoint came back"
grep -q "resumed consumption" "$T/w1.log" || fail "consumption never resumed"
stop_pid "$W" 30 || fail "worker did not exit 0"
dump_topic cxone.contact-updates "$T/src.json"
check outcomes --source "$T/src.json" --results "$T/res.json" --exactly-once --max-failed 0 --max-rejected 0
check nosecret "$T"/*.log "$T"/*.json --secret "$CXONE_CLIENT_SECRET"
log "PASS"
