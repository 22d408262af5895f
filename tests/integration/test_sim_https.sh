#!/usr/bin/env bash
# test_sim_https.sh: cxone-sim --tls-cert/--tls-key serves HTTPS that a
# client verifies against the test CA (and cannot verify without it), says
# https:// in its listen line, refuses bad certificate or key files naming
# them, and keeps connections alive: N requests over one connection count as
# 1 connection and 1 TLS handshake in /_sim/stats.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tls.sh"

make_test_ca "$T/ca" >"$T/ca.paths" || fail "make_test_ca failed"
grep -qx "TLS_CA=$T/ca/ca.pem" "$T/ca.paths" || fail "make_test_ca printed: $(cat "$T/ca.paths")"
for f in "$TLS_CA" "$TLS_CERT" "$TLS_KEY"; do [ -s "$f" ] || fail "make_test_ca: $f missing"; done
openssl x509 -in "$TLS_CERT" -noout -ext subjectAltName | grep -q 'IP Address:127.0.0.1' ||
  fail "server certificate lacks IP:127.0.0.1"
openssl verify -CAfile "$TLS_CA" "$TLS_CERT" >/dev/null || fail "server certificate does not verify"

log "bad TLS files are usage errors naming the file"
echo "not a certificate" >"$T/junk.pem"
check_bad() { # check_bad WANT-IN-MESSAGE ARGS...
  local want=$1 rc=0
  shift
  "$CXW_BIN/cxone-sim" --listen 127.0.0.1:0 "$@" >"$T/bad.out" 2>"$T/bad.err" || rc=$?
  [ "$rc" = 2 ] || fail "cxone-sim $*: exit $rc, want 2"
  grep -qF -- "$want" "$T/bad.err" || fail "cxone-sim $*: message lacks '$want': $(cat "$T/bad.err")"
  [ ! -s "$T/bad.out" ] || fail "cxone-sim $*: printed a listen line"
}
check_bad "--tls-cert and --tls-key go together" --tls-cert "$TLS_CERT"
check_bad "$T/missing.pem: No such file" --tls-cert "$T/missing.pem" --tls-key "$TLS_KEY"
check_bad "$T/junk.pem: no PEM certificate" --tls-cert "$T/junk.pem" --tls-key "$TLS_KEY"
check_bad "$T/junk.pem: no unencrypted PEM private key" --tls-cert "$TLS_CERT" --tls-key "$T/junk.pem"
check_bad "$T/ca/ca.key is not the key of certificate $TLS_CERT" --tls-cert "$TLS_CERT" --tls-key "$T/ca/ca.key"
grep -q "PRIVATE KEY" "$T/bad.err" && fail "a key's content reached the message"

start_sim --tls-cert "$TLS_CERT" --tls-key "$TLS_KEY"
[[ "$CXONE_BASE_URL" =~ ^https://127\.0\.0\.1:[0-9]+$ ]] || fail "listen line: $CXONE_BASE_URL"
URL=$CXONE_BASE_URL

log "verification: with the CA it succeeds, without it it fails"
curl -fsS --max-time 10 --cacert "$TLS_CA" "$URL/_sim/config" >/dev/null || fail "curl --cacert failed"
rc=0
curl -sS --max-time 10 "$URL/_sim/config" >/dev/null 2>"$T/noca.err" || rc=$?
[ "$rc" = 60 ] || fail "curl without the CA: exit $rc, want 60 (peer certificate cannot be verified)"
rc=0
curl -sS --max-time 10 "http://${URL#https://}/_sim/config" >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "plain HTTP to the HTTPS port was answered"
# The hostname in the certificate: localhost works too.
curl -fsS --max-time 10 --cacert "$TLS_CA" "https://localhost:${URL##*:}/_sim/config" >/dev/null ||
  fail "https://localhost did not verify"

log "keep-alive: one connection, one handshake, many requests"
python3 - "$URL" "$TLS_CA" "$CXONE_CLIENT_ID" "$CXONE_CLIENT_SECRET" >"$T/ka.out" <<'PY' || fail "keep-alive run failed: $(cat "$T/ka.out")"
import base64, http.client, json, ssl, sys, urllib.parse

url, ca, cid, secret = sys.argv[1:5]
host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port
ctx = ssl.create_default_context(cafile=ca)
conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=10)

def call(method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    if r.getheader("Connection", "").lower() == "close":
        sys.exit(f"{method} {path}: the sim closed the connection")
    return r.status, data

def stats():
    st, body = call("GET", "/_sim/stats")
    assert st == 200, st
    return json.loads(body)

before = stats()
basic = base64.b64encode(f"{urllib.parse.quote_plus(cid)}:{urllib.parse.quote_plus(secret)}".encode()).decode()
st, body = call("POST", "/oauth/token", "grant_type=client_credentials",
                {"Authorization": "Basic " + basic,
                 "Content-Type": "application/x-www-form-urlencoded"})
assert st == 200, (st, body)
tok = json.loads(body)["access_token"]
N = 25
for i in range(N):
    st, body = call("PATCH", f"/api/v2/contacts/c-{i}", json.dumps({"firstName": f"A{i}"}),
                    {"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    assert st == 200, (i, st, body)
after = stats()
conn.close()
print(json.dumps({"before": before, "after": after}))
d_conn = after["connections"] - before["connections"]
d_hs = after["tlsHandshakes"] - before["tlsHandshakes"]
# `before` was read on the connection itself: it is already counted there.
if d_conn != 0 or d_hs != 0:
    sys.exit(f"{N + 3} requests on one connection added {d_conn} connections and {d_hs} handshakes")
if after["contactsApplied"] - before["contactsApplied"] != N:
    sys.exit("not every PATCH was applied")
PY
stats=$(curl -fsS --max-time 10 --cacert "$TLS_CA" "$URL/_sim/stats")
# Connections so far: the --cacert probe, the failed verification (accepted,
# never a complete handshake), plain HTTP, localhost, the keep-alive run, this.
python3 - "$stats" <<'PY' || fail "stats after the runs: $stats"
import json, sys
s = json.loads(sys.argv[1])
assert s["connections"] == 6, s["connections"]
assert s["tlsHandshakes"] == 4, s["tlsHandshakes"]
PY

log "curl reuses the connection for many URLs: 1 connect"
n=$(curl -fsS --max-time 20 --cacert "$TLS_CA" -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
  -w '%{num_connects}\n' "$URL/_sim/config" "$URL/_sim/config" "$URL/_sim/config" "$URL/_sim/stats" |
  awk '{ s += $1 } END { print s }')
[ "$n" = 1 ] || fail "curl made $n connections for 4 URLs"

log "a plain sim counts connections and no handshakes"
stop_pid "$SIM_PID" || fail "the HTTPS sim did not stop cleanly"
start_sim
[[ "$CXONE_BASE_URL" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || fail "plain listen line: $CXONE_BASE_URL"
stats=$(sim_get /_sim/stats)
python3 -c 'import json,sys; s=json.loads(sys.argv[1]); assert s["connections"]==1 and s["tlsHandshakes"]==0, s' "$stats" ||
  fail "plain stats: $stats"
log "PASS"
