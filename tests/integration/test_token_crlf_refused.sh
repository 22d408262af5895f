#!/usr/bin/env bash
# ctest-label: asan
# A token endpoint that answers 200 with an access_token holding CR/LF and a
# header line after it (the fault suite's attack input): the worker refuses
# the answer, never sends it in an Authorization header (no request reaches
# CXone with it, nothing is applied, no outcome), never logs it, and fails no
# request for it. Once the endpoint hands out good tokens again (the
# simulator's, through the same fake endpoint), every request gets exactly
# one good outcome.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start_kafka 3
start_sim
SIM=$CXONE_BASE_URL
EVIL_MARK=X-Injected-$$

# The fake token endpoint: while $T/evil exists, a 200 with the CR/LF token;
# then the simulator's own answer to the same request.
touch "$T/evil"
python3 - "$T/evil" "$SIM" "$EVIL_MARK" >"$T/fake.out" 2>"$T/fake.log" <<'PY' &
import http.server, json, os, sys, urllib.request, urllib.error
evil, sim, mark = sys.argv[1], sys.argv[2], sys.argv[3]
served = {"evil": 0, "good": 0}
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if os.path.exists(evil):
            served["evil"] += 1
            out = json.dumps({"access_token": "tok\r\n" + mark + ": 1",
                              "token_type": "bearer", "expires_in": 3600}).encode()
            status = 200
        else:
            served["good"] += 1
            req = urllib.request.Request(sim + "/oauth/token", data=body, method="POST",
                                         headers={k: v for k, v in self.headers.items()
                                                  if k.lower() in ("authorization", "content-type")})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    status, out = r.status, r.read()
            except urllib.error.HTTPError as e:
                status, out = e.code, e.read()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
        print(json.dumps(served), flush=True)
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print("listening on", s.server_address[1], flush=True)
s.timeout = 1
for _ in range(600):  # at most 10 minutes
    s.handle_request()
PY
PIDS+=($!)
wait_until 10 grep -q '^listening on' "$T/fake.out" || fail "the fake token endpoint did not start"
FAKE_PORT=$(sed -n 's/^listening on //p' "$T/fake.out" | head -1)

write_worker_conf "$T/w.conf" 'rate = { rps = 0.0; }; token = { min_refresh_interval_ms = 1000; };'
CXONE_TOKEN_URL=http://127.0.0.1:$FAKE_PORT/oauth/token start_worker w1 "$T/w.conf"
W=$LAST_PID

python3 "$CXW_SRC/tests/integration/gen_contacts.py" 200 200 crlf >"$T/t.csv"
"$CXW_BIN/cxonectl" contacts import "$T/t.csv" --batch-id crlf >"$T/import.out" \
  2>"$T/import.log" || fail "import failed"

evil_served() { tail -1 "$T/fake.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["evil"])' 2>/dev/null; }
three_refused() { [ "$(evil_served)" -ge 3 ] 2>/dev/null; }
wait_until 60 three_refused || fail "the worker did not ask the token endpoint again"
sleep 2
dump_topic cxone.results "$T/res0.json"
[ ! -s "$T/res0.json" ] || fail "outcomes while every token was refused: $(head -3 "$T/res0.json")"
stats=$(sim_get /_sim/stats)
python3 - "$stats" <<'PY' || fail "a request reached CXone with the refused token"
import json, sys
s = json.loads(sys.argv[1])
# the fake answered every token request itself: CXone (the simulator) saw
# none, and a request with the token would be one of requestsTotal
print(f"check: while refused: requestsTotal {s['requestsTotal']}, "
      f"contactsApplied {s['contactsApplied']}")
sys.exit(0 if s["requestsTotal"] == 0 and s["contactsApplied"] == 0 else 1)
PY
grep -q 'access_token' "$T/w1.log" || fail "the refusal does not say which member was wrong"
if grep -q "$EVIL_MARK" "$T/w1.log"; then fail "the refused token reached the log"; fi
log "CR/LF token refused $(evil_served) times: nothing sent with it, no outcome, nothing logged"

rm -f "$T/evil"
done_all() {
  dump_topic cxone.results "$T/res.json"
  [ "$(wc -l <"$T/res.json")" -ge 200 ]
}
wait_until 90 done_all || fail "requests did not complete once good tokens came"
stop_pid "$W" 30 || fail "worker did not exit 0"
dump_topic cxone.contact-updates "$T/src.json"
check outcomes --source "$T/src.json" --results "$T/res.json" --exactly-once --max-failed 0 --max-rejected 0
# shellcheck disable=SC2046
check nosecret "$T"/*.log "$T"/*.json --secret "$CXONE_CLIENT_SECRET" --secret "$EVIL_MARK" $(token_args)
log "PASS"
