#!/usr/bin/env bash
# ctest-label: asan
# The admin listener of a worker under load: /metrics answers during the
# run and passes `promtool check metrics`; its counters agree with the
# outcomes on the results topic and with what the simulator saw; /readyz
# turns not-ready (503, with the reason) when the token endpoint fails and
# the token expires, and ready again when the endpoint is back.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool is not installed (scripts/install-deps.sh installs prometheus)"

start_kafka 3
start_sim --token-ttl 3 --error-rate 0.02 --latency-ms 2
write_worker_conf "$T/w.conf" 'token = { min_refresh_interval_ms = 1000; }; rate = { rps = 0.0; }; http = { max_in_flight = 32; };'
CXONE_WORKER_ADMIN_LISTEN=127.0.0.1:0 start_worker w1 "$T/w.conf"
W=$LAST_PID
wait_until 20 grep -q '"admin listener on' "$T/w1.log" || fail "no admin listener"
PORT=$(grep -o 'admin listener on [^ ]* (port [0-9]*' "$T/w1.log" | grep -o '[0-9]*$')
ADMIN=http://127.0.0.1:$PORT
log "admin at $ADMIN"

python3 "$CXW_SRC/tests/integration/gen_contacts.py" 3000 3000 m >"$T/m.csv"
"$CXW_BIN/cxonectl" contacts import "$T/m.csv" --batch-id metrics --wait --timeout 120 \
  >"$T/import.out" 2>"$T/import.log" &
IMP=$!
scrapes=0
while kill -0 $IMP 2>/dev/null && [ $scrapes -lt 50 ]; do
  curl -fsS --max-time 5 "$ADMIN/metrics" >"$T/during.prom" || fail "/metrics failed under load"
  scrapes=$((scrapes + 1))
  sleep 0.2
done
wait $IMP || fail "import --wait failed: $(cat "$T/import.out")"
log "scraped /metrics $scrapes times under load"
promtool check metrics <"$T/during.prom" || fail "a scrape under load does not pass promtool"

sleep 1
curl -fsS --max-time 5 "$ADMIN/metrics" >"$T/after.prom"
promtool check metrics <"$T/after.prom" || fail "/metrics does not pass promtool"
dump_topic cxone.results "$T/res.json"
sim_get /_sim/stats >"$T/stats.json"
python3 - "$T/after.prom" "$T/res.json" "$T/stats.json" <<'PY' || fail "metrics disagree with the outcomes"
import json, re, sys
m = {}
for line in open(sys.argv[1]):
    if line.startswith("#") or not line.strip():
        continue
    name, value = line.rsplit(" ", 1)
    m[name] = float(value)
res = [json.loads(json.loads(l)["value"]) for l in open(sys.argv[2])]
st = json.load(open(sys.argv[3]))
by = {}
for o in res:
    by[o["status"]] = by.get(o["status"], 0) + 1
def get(k): return m.get(k, 0)
checks = [
    ("succeeded", get('cxw_outcomes_total{type="contact-update",status="succeeded"}'), by.get("succeeded", 0)),
    ("rejected", get('cxw_outcomes_total{type="contact-update",status="rejected"}'), by.get("rejected", 0)),
    ("failed", get('cxw_outcomes_total{type="contact-update",status="failed"}'), by.get("failed", 0)),
    ("consumed", get('cxw_messages_consumed_total{topic="cxone.contact-updates"}'), 3000),
    ("200s", get('cxw_cxone_requests_total{endpoint="contacts",code="200"}'), st["contactsApplied"]),
]
fives = sum(v for k, v in m.items() if k.startswith('cxw_cxone_requests_total{endpoint="contacts",code="5'))
checks.append(("5xx", fives, sum(v for k, v in st["requests"].items() if k.startswith("5"))))
checks.append(("retries", get('cxw_retries_total{reason="server_error"}'), fives))
ok = True
for name, got, want in checks:
    print(f"check: {name}: metrics {got:g}, expected {want}")
    ok &= got == want
assert get('cxw_token_refreshes_total{result="ok"}') >= 2, "tokens living 3 s were not refreshed"
# 3 partitions of each of the two request topics
assert get("cxw_assigned_partitions") == 6, m.get("cxw_assigned_partitions")
assert get("cxw_ready") == 1
sys.exit(0 if ok else 1)
PY

code=$(curl -s -o "$T/ready.txt" -w '%{http_code}' "$ADMIN/readyz")
[ "$code" = 200 ] || fail "/readyz $code before the outage: $(cat "$T/ready.txt")"
curl -fsS -X POST -d '{"tokenFailRate":1}' "$CXONE_BASE_URL/_sim/config" >/dev/null
not_ready() { [ "$(curl -s -o "$T/ready.txt" -w '%{http_code}' "$ADMIN/readyz")" = 503 ]; }
wait_until 30 not_ready || fail "/readyz stayed ready while no token could be had"
log "/readyz during the outage: $(cat "$T/ready.txt")"
grep -q "no access token" "$T/ready.txt" || fail "the reason does not name the token"
# Requests published now wait for a token: the consumer lags behind, and
# cxw_consumer_lag (librdkafka's statistics, every 5 s by default) says so.
python3 "$CXW_SRC/tests/integration/gen_contacts.py" 200 200 lag >"$T/lag.csv"
"$CXW_BIN/cxonectl" contacts import "$T/lag.csv" --batch-id lag >/dev/null 2>>"$T/ctl.log" ||
  fail "import during the outage"
lagging() {
  curl -fsS --max-time 5 "$ADMIN/metrics" >"$T/lag.prom" &&
    grep -Eq '^cxw_consumer_lag\{topic="cxone.contact-updates",partition="[0-9]+"\} [1-9]' "$T/lag.prom"
}
wait_until 30 lagging || fail "no cxw_consumer_lag sample above 0 while requests wait: $(grep consumer_lag "$T/lag.prom")"
log "lag during the outage: $(grep -c '^cxw_consumer_lag{' "$T/lag.prom") samples, $(grep -E '^cxw_consumer_lag\{topic="cxone.contact-updates"' "$T/lag.prom" | awk '{s+=$2} END {print s}') messages on contact-updates"
promtool check metrics <"$T/lag.prom" || fail "/metrics with lag samples does not pass promtool"
curl -fsS --max-time 5 "$ADMIN/healthz" >/dev/null || fail "/healthz failed while only the token is missing"
curl -fsS -X POST -d '{"tokenFailRate":0}' "$CXONE_BASE_URL/_sim/config" >/dev/null
is_ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$ADMIN/readyz")" = 200 ]; }
wait_until 60 is_ready || fail "/readyz did not come back after the token endpoint did"
log "/readyz ready again"
caught_up() {
  curl -fsS --max-time 5 "$ADMIN/metrics" >"$T/lag.prom" &&
    grep -q '^cxw_consumer_lag{topic="cxone.contact-updates"' "$T/lag.prom" &&
    ! grep -Eq '^cxw_consumer_lag\{.*\} [1-9]' "$T/lag.prom"
}
wait_until 60 caught_up || fail "cxw_consumer_lag did not return to 0: $(grep '^cxw_consumer_lag' "$T/lag.prom")"
log "cxw_consumer_lag back to 0"
stop_pid "$W" 30 || fail "worker did not exit 0"
check nosecret "$T"/*.log "$T"/*.json "$T"/*.prom --secret "$CXONE_CLIENT_SECRET"
log "PASS"
