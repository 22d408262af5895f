#!/usr/bin/env bash
# ctest-label: asan
# Security finding 9: refused webhooks cannot flood the log. 200 unsigned
# or badly signed POSTs /webhooks/cxone: all are answered 401 and counted in
# cxw_webhooks_total{result="refused"}, but the log holds one line for the
# first, then one line per 10 s with the count of the others and the last
# reason: 2 lines, whose counts add up to 200.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start_kafka 1
start_sim
write_worker_conf "$T/w.conf" 'rate = { rps = 0.0; };'
CXONE_WEBHOOK_SECRET=whsec-test-$$ CXONE_WORKER_ADMIN_LISTEN=127.0.0.1:0 start_worker w1 "$T/w.conf"
W=$LAST_PID
wait_until 20 grep -q '"admin listener on' "$T/w1.log" || fail "no admin listener"
PORT=$(grep -o 'admin listener on [^ ]* (port [0-9]*' "$T/w1.log" | grep -o '[0-9]*$')

python3 - "$PORT" <<'PY' || fail "200 bad webhooks"
import http.client, sys, time
port = int(sys.argv[1])
body = b'{"jobId":"job-x","status":"COMPLETED"}'
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
bad = 0
for i in range(200):
    h = {"Content-Type": "application/json"}
    if i % 2:  # half unsigned, half with a wrong signature
        h["X-CXone-Timestamp"] = str(int(time.time()))
        h["X-CXone-Signature"] = "sha256=" + "0" * 64
    c.request("POST", "/webhooks/cxone", body, h)
    r = c.getresponse()
    r.read()
    bad += r.status == 401
print(f"check: {bad} of 200 answered 401 {'ok' if bad == 200 else 'UNEXPECTED'}")
sys.exit(0 if bad == 200 else 1)
PY
metrics=$(curl -fsS --max-time 5 "http://127.0.0.1:$PORT/metrics") || fail "no /metrics"
grep -q '^cxw_webhooks_total{result="refused"} 200$' <<<"$metrics" || fail "not 200 refusals counted"
n=$(grep -c '"webhook".*refused' "$T/w1.log" || true)
[ "$n" -eq 1 ] || fail "$n refusal lines right after the burst, want 1 (the first)"
# The rest come in one line when the 10 s interval is over.
wait_until 15 grep -q 'refused 199 webhooks in the last 1[01] s; the last: bad signature' "$T/w1.log" ||
  fail "no line with the count of the other 199"
grep '"webhook".*refused' "$T/w1.log" >&2
n=$(grep -c '"webhook".*refused' "$T/w1.log" || true)
[ "$n" -eq 2 ] || fail "$n refusal lines, want 2"
stop_pid "$W" 30 || fail "worker did not exit 0"
log "PASS"
