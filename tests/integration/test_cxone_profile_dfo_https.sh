#!/usr/bin/env bash
# The cxone profile end to end, by configuration alone: cxone-sim --profile
# cxone over HTTPS (verified against a test CA), two workers given only
# CXONE_PROFILE=cxone, the issuer, the app's and the access key's
# credentials, the CA file and an ident map. They discover the token
# endpoint and the hosts, log in with the password grant and PUT DFO custom
# fields; 3,000 updates of 600 contacts with 503s, dropped connections and
# 429s without Retry-After: every message exactly one outcome, none failed
# or rejected, the sim holds the last value of every contact under its
# idents; no secret or token in any log or record. cxonectl doctor says
# "doctor: OK" against it and "doctor: FAILED" with a bad access key secret.
# A worker without the CA cannot verify the sim: it stays not ready
# (/readyz 503 naming discovery and the certificate) and logs why.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tls.sh"

make_test_ca "$T/ca" >/dev/null || fail "cannot make the test CA"
export CXONE_ACCESS_KEY_ID=AK-test
export CXONE_ACCESS_KEY_SECRET="ak+s/e=c:%-$$-do-not-log"
start_kafka 6
start_sim --profile cxone --tls-cert "$TLS_CERT" --tls-key "$TLS_KEY" \
  --access-key-id "$CXONE_ACCESS_KEY_ID" --access-key-secret "$CXONE_ACCESS_KEY_SECRET" \
  --custom-fields first_name,last_name,email_address \
  --error-rate 0.05 --drop-rate 0.01 --rate-limit 400 --burst 20 --token-ttl 5 --seed 13
SIM=$CXONE_BASE_URL
[[ "$SIM" == https://127.0.0.1:* ]] || fail "the sim is not on https: $SIM"
# The workers get the issuer only: nothing else names a host.
unset CXONE_BASE_URL
export CXONE_PROFILE=cxone CXONE_ISSUER_URL=$SIM CXONE_CA_FILE=$TLS_CA
sim_get() { curl -fsS --cacert "$TLS_CA" --max-time 10 "$SIM$1"; }

write_worker_conf "$T/w.conf" '
cxone = { contacts = { idents = [ "firstName=first_name", "lastName=last_name",
                                  "email=email_address" ]; }; };
token = { min_refresh_interval_ms = 1000; };
rate = { rps = 2000.0; burst = 100; };
http = { max_in_flight = 64; request_timeout_ms = 5000; };'

# doctor first: OK with the right key, FAILED (exit 1) with a wrong one
"$CXW_BIN/cxonectl" -c "$T/w.conf" doctor >"$T/doctor.out" 2>"$T/doctor.log" ||
  { cat "$T/doctor.out" >&2; fail "doctor failed"; }
cat "$T/doctor.out" >&2
[ "$(tail -n 1 "$T/doctor.out")" = "doctor: OK" ] || fail "doctor did not end with doctor: OK"
[ "$(grep -c '^doctor: ' "$T/doctor.out")" -eq 1 ] || fail "doctor printed more than one verdict"
grep -q "^tenant id: 11eb2b4a-5c3d-4e6f-8a9b-0c1d2e3f4a5b (from the id_token)$" "$T/doctor.out" ||
  fail "doctor did not read the tenant from the id_token"
grep -q "^token endpoint: $SIM/auth/token (discovered)$" "$T/doctor.out" ||
  fail "doctor did not discover the token endpoint"
rc=0
CXONE_ACCESS_KEY_SECRET=wrong-secret-$$ "$CXW_BIN/cxonectl" -c "$T/w.conf" doctor \
  >"$T/doctor-bad.out" 2>"$T/doctor-bad.log" || rc=$?
cat "$T/doctor-bad.out" >&2
[ $rc -eq 1 ] || fail "doctor with a wrong secret exited $rc, not 1"
tail -n 1 "$T/doctor-bad.out" | grep -q '^doctor: FAILED: login refused: .*invalid_grant.*CXONE_ACCESS_KEY_SECRET' ||
  fail "doctor with a wrong secret did not name the access key"

# Without the test CA the certificate does not verify: not ready, and why.
# Its own group, so that it holds no partition of the others.
CXONE_CA_FILE='' KAFKA_GROUP_ID=no-ca CXONE_WORKER_ADMIN_LISTEN=127.0.0.1:0 \
  start_worker noca "$T/w.conf"
NOCA=$LAST_PID
wait_until 20 grep -q '"admin listener on' "$T/noca.log" || fail "no admin listener"
PORT=$(grep -o 'admin listener on [^ ]* (port [0-9]*' "$T/noca.log" | grep -o '[0-9]*$')
wait_until 20 grep -q '"discovery".*failed: .*certificate.*not ready' "$T/noca.log" ||
  fail "the worker without the CA did not say why it is not ready"
code=$(curl -s -o "$T/readyz.out" -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")
[ "$code" = 503 ] || fail "/readyz answered $code without the CA"
grep -q 'CXone endpoints not discovered yet: the OpenID configuration: .*certificate' \
  "$T/readyz.out" || fail "/readyz does not say why: $(cat "$T/readyz.out")"
stop_pid "$NOCA" 20 || fail "the worker without the CA did not stop cleanly"

start_worker w1 "$T/w.conf"
start_worker w2 "$T/w.conf"
wait_until 30 grep -q '"CXone hosts of tenant' "$T/w1.log" || fail "w1 did not discover the hosts"
wait_until 30 grep -q '"CXone hosts of tenant' "$T/w2.log" || fail "w2 did not discover the hosts"

python3 "$CXW_SRC/tests/integration/gen_contacts.py" 3000 600 d >"$T/d.csv"
rc=0
"$CXW_BIN/cxonectl" contacts import "$T/d.csv" --batch-id dfo --wait --timeout 400 \
  >"$T/import.out" 2>"$T/import.log" || rc=$?
cat "$T/import.out" >&2
[ $rc -eq 0 ] || fail "import --wait exited $rc"

dump_topic cxone.contact-updates "$T/src.json"
dump_topic cxone.results "$T/res.json"
check outcomes --source "$T/src.json" --results "$T/res.json" --max-failed 0 --max-rejected 0

# The sim holds, for every contact, the last value of each field, under its ident.
sim_get /_sim/stats >"$T/stats.json"
python3 - "$T/src.json" "$T/res.json" "$SIM" "$TLS_CA" "$T/stats.json" <<'PY' || fail "the sim does not hold the last values, or the faults did not happen"
import http.client, json, ssl, sys, urllib.parse
src_path, res_path, sim, ca, stats_path = sys.argv[1:6]
idents = {"firstName": "first_name", "lastName": "last_name", "email": "email_address"}
outs = {}
for line in open(res_path):
    v = json.loads(json.loads(line)["value"])
    s = v["source"]
    outs.setdefault((s["topic"], s["partition"], s["offset"]), []).append(v["status"])
src = sorted((json.loads(l) for l in open(src_path)), key=lambda m: (m["partition"], m["offset"]))
expect = {}
for m in src:
    st = outs.get((m["topic"], m["partition"], m["offset"]))
    assert st and st[-1] == "succeeded", f"no success for {m['partition']}:{m['offset']}"
    v = json.loads(m["value"])
    f = expect.setdefault(v["contactId"], {})
    for k, val in v.items():
        if k != "contactId" and val:
            f[idents[k]] = val
u = urllib.parse.urlsplit(sim)
conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=10,
                                   context=ssl.create_default_context(cafile=ca))
bad = 0
for cid, fields in expect.items():
    conn.request("GET", f"/_sim/contacts/{cid}")
    got = json.loads(conn.getresponse().read()).get("fields")
    if got != fields:
        bad += 1
        if bad <= 5:
            print(f"check: {cid}: sim holds {got}, expected {fields}")
print(f"check: {len(expect)} customers compared, {bad} differ")
s = json.load(open(stats_path))
r = s["requests"]
fives = sum(v for k, v in r.items() if k.startswith("5"))
print("check: sim saw", {"5xx": fives, "dropped": s["dropped"], "429": s["rateLimited"],
                         "tokenFetches": s["tokenFetches"], "connections": s["connections"],
                         "tlsHandshakes": s["tlsHandshakes"], "requests": s["requestsTotal"]})
assert bad == 0
assert len(expect) == 600
assert fives > 0 and s["dropped"] > 0 and s["rateLimited"] > 0, "faults were not injected"
assert s["tokenFetches"] >= 4, "tokens living 5 s were not refreshed"
# keep-alive: far fewer TLS handshakes than requests
assert s["tlsHandshakes"] < s["requestsTotal"] / 5, "connections are not reused"
PY

dump_topic cxone.audit "$T/audit.json"
dump_topic cxone.dlq "$T/dlq.json"
[ -n "$(token_args)" ] || fail "the simulator lists no token"
# shellcheck disable=SC2046
check nosecret "$T"/*.log "$T"/*.json "$T"/*.out --secret "$CXONE_CLIENT_SECRET" \
  --secret "$CXONE_ACCESS_KEY_SECRET" $(token_args)
log "PASS"
