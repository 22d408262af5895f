#!/usr/bin/env bash
# ctest-label: asan
# POST /webhooks/cxone on the worker's admin listener: a good signature is
# accepted (an untracked job is acknowledged and left to its poller); a bad,
# expired or missing signature is 401; a body over 64 KiB is 413 (a 2 MiB one
# sent chunked is 413 or cut off, and the next webhook answered); malformed
# JSON with a good signature is 400, and so is a jobId made only of dots;
# the worker keeps running through all.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SECRET=whsec-test-$$
start_kafka 1
start_sim
write_worker_conf "$T/w.conf" 'rate = { rps = 0.0; };'
CXONE_WEBHOOK_SECRET=$SECRET CXONE_WORKER_ADMIN_LISTEN=127.0.0.1:0 start_worker w1 "$T/w.conf"
W=$LAST_PID
wait_until 20 grep -q '"admin listener on' "$T/w1.log" || fail "no admin listener"
PORT=$(grep -o 'admin listener on [^ ]* (port [0-9]*' "$T/w1.log" | grep -o '[0-9]*$')

python3 - "$PORT" "$SECRET" <<'PY' || fail "webhook answers"
import hashlib, hmac, http.client, json, socket, sys, time
port, secret = int(sys.argv[1]), sys.argv[2].encode()
def post(body, ts=None, sig=None, sign=True, ts_off=0):
    headers = {"Content-Type": "application/json"}
    ts = str(int(time.time()) + ts_off) if ts is None else ts
    if sign:
        mac = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers["X-CXone-Timestamp"] = ts
        headers["X-CXone-Signature"] = sig or "sha256=" + mac
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", "/webhooks/cxone", body, headers)
    r = c.getresponse()
    return r.status, r.read().decode()
ev = json.dumps({"eventType": "WFM_SCHEDULE_IMPORT_COMPLETED", "jobId": "job-unknown", "status": "COMPLETED"}).encode()
cases = [
    ("good signature, untracked job", post(ev), 200, '"tracked":false'),
    ("bad signature", post(ev, sig="sha256=" + "0" * 64), 401, "bad signature"),
    ("signature of another body", post(ev, sig="sha256=" + hmac.new(secret, b"1.x", hashlib.sha256).hexdigest()), 401, ""),
    ("expired timestamp", post(ev, ts_off=-3600), 401, "timestamp"),
    ("future timestamp", post(ev, ts_off=+3600), 401, "timestamp"),
    ("missing signature", post(ev, sign=False), 401, "missing"),
    ("malformed signature", post(ev, sig="md5=abc"), 401, "malformed"),
    ("body over 64 KiB", post(b"{" + b" " * 70000 + b"}"), 413, ""),
    ("malformed JSON, good signature", post(b'{"jobId":'), 400, "malformed"),
    ("no jobId, good signature", post(b'{"status":"COMPLETED"}'), 400, "malformed"),
    # jobIds go into URL paths (cxone.schedules.job_path): dots alone are a
    # path segment of their own meaning, refused (security finding 2)
    ("jobId '..', good signature", post(b'{"jobId":"..","status":"COMPLETED"}'), 400, "malformed"),
    ("jobId '.', good signature", post(b'{"jobId":".","status":"COMPLETED"}'), 400, "malformed"),
    ("jobId '...', good signature", post(b'{"jobId":"...","status":"COMPLETED"}'), 400, "malformed"),
]
ok = True
for name, (status, body), want, text in cases:
    good = status == want and text in body
    print(f"check: {name}: {status} {body[:60]!r} {'ok' if good else 'UNEXPECTED, want %d' % want}")
    ok &= good

# A 2 MiB body sent chunked (no Content-Length to refuse it by), signed
# with the right secret: refused with 413 or cut off past the drain limit,
# never handed on; the listener then answers the next webhook.
def chunked_2mib():
    body = b'{"jobId":"job-big","status":"COMPLETED","pad":"' + b"z" * (2 * 1024 * 1024) + b'"}'
    ts = str(int(time.time()))
    mac = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(("POST /webhooks/cxone HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               f"Transfer-Encoding: chunked\r\nX-CXone-Timestamp: {ts}\r\n"
               f"X-CXone-Signature: sha256={mac}\r\n\r\n").encode())
    sent = 0
    try:
        for i in range(0, len(body), 64 * 1024):
            part = body[i:i + 64 * 1024]
            s.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
            sent += len(part)
        s.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # closed by the listener mid-body
    try:
        answer = s.recv(512).decode(errors="replace")
    except OSError:
        answer = ""
    s.close()
    return sent, answer
sent, answer = chunked_2mib()
status_line = answer.split("\r\n", 1)[0]
good = answer == "" or " 413 " in status_line
print(f"check: 2 MiB chunked body, good signature: {sent} bytes sent, "
      f"{status_line or 'connection closed'!r} {'ok' if good else 'UNEXPECTED, want 413 or closed'}")
ok &= good
status, body = post(ev)
good = status == 200 and '"tracked":false' in body
print(f"check: the next webhook: {status} {body[:60]!r} {'ok' if good else 'UNEXPECTED, want 200'}")
ok &= good
sys.exit(0 if ok else 1)
PY
# Read the whole page first: grep -q stops at the first match, and with
# pipefail curl's "failed writing body" on the closed pipe would fail the test.
metrics=$(curl -fsS "http://127.0.0.1:$PORT/metrics") || fail "no /metrics"
grep -q '^cxw_webhooks_total{result="refused"} [1-9]' <<<"$metrics" || fail "refusals not counted"
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null || fail "the worker stopped answering"
stop_pid "$W" 30 || fail "worker did not exit 0"
check nosecret "$T"/*.log --secret "$SECRET" --secret "$CXONE_CLIENT_SECRET"
log "PASS"
