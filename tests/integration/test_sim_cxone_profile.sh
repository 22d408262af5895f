#!/usr/bin/env bash
# test_sim_cxone_profile.sh: cxone-sim --profile cxone serves the real
# platform's shapes over HTTPS (verified against a test CA): OIDC and
# cxone-configuration discovery pointing back at the sim, the password grant
# at /auth/token with the client in HTTP Basic (raw or form-urlencoded) or
# in the body, secrets with + / = : % in them, an id_token whose payload
# carries tenantId, DFO custom fields stored per customer with 400s naming
# the problem, the definitions list, 401 without or with an expired token,
# and 429 without Retry-After.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tls.sh"

make_test_ca "$T/ca" >/dev/null || fail "make_test_ca failed"
TENANT=11ee0000-aaaa-4bbb-8ccc-0123456789ab
# A client id cannot hold ':' in raw HTTP Basic (RFC 7617); the secrets can.
CID='cx client+1/=%'
CSECRET='s+e/c=r:e%t!'
AKID='ak/id+=:%1'
AKSECRET='ak+se/cr=et:%2'
SIM_ARGS=(--profile cxone --tls-cert "$TLS_CERT" --tls-key "$TLS_KEY" --tenant-id "$TENANT"
  --access-key-id "$AKID" --access-key-secret "$AKSECRET"
  --custom-fields first_name,last_name,email,crm_id)

# A sim with short tokens, for the expiry check (its own client).
"$CXW_BIN/cxone-sim" --listen 127.0.0.1:0 "${SIM_ARGS[@]}" --client-id "$CID" \
  --client-secret "$CSECRET" --token-ttl 1 >"$T/short.out" 2>"$T/short.log" &
PIDS+=($!)
SHORT_URL=$(first_line "$T/short.out" 20) || fail "short-token sim did not start"
SHORT_URL=${SHORT_URL#listening on }

# The main sim (lib.sh passes its own client id and secret: replace them).
"$CXW_BIN/cxone-sim" --listen 127.0.0.1:0 "${SIM_ARGS[@]}" --client-id "$CID" \
  --client-secret "$CSECRET" --token-ttl 600 >"$T/sim.out" 2>"$T/sim.log" &
PIDS+=($!)
URL=$(first_line "$T/sim.out" 20) || fail "cxone sim did not start"
URL=${URL#listening on }
[[ "$URL" =~ ^https://127\.0\.0\.1:[0-9]+$ ]] || fail "listen line: $URL"
log "cxone sims at $URL and $SHORT_URL"

python3 - "$URL" "$SHORT_URL" "$TLS_CA" "$TENANT" "$CID" "$CSECRET" "$AKID" "$AKSECRET" \
  >"$T/check.log" 2>&1 <<'PY' || { cat "$T/check.log" >&2; fail "cxone profile checks failed"; }
import base64, http.client, json, ssl, sys, time, urllib.parse

url, short_url, ca, tenant, cid, csecret, akid, aksecret = sys.argv[1:9]
ctx = ssl.create_default_context(cafile=ca)  # verification on
checks = 0


def conn_for(u):
    p = urllib.parse.urlsplit(u)
    return http.client.HTTPSConnection(p.hostname, p.port, context=ctx, timeout=10)


C = conn_for(url)


def call(method, path, body=None, headers=None, c=None):
    c = c or C
    h = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        h.setdefault("Content-Type", "application/json")
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    try:
        j = json.loads(data) if data else None
    except ValueError:
        j = None
    return r.status, j, r


def expect(name, got, want):
    global checks
    checks += 1
    if got != want:
        sys.exit(f"FAIL {name}: got {got!r}, want {want!r}")


def form(**kv):
    return (urllib.parse.urlencode(kv), {"Content-Type": "application/x-www-form-urlencoded"})


def basic(i, s):
    return "Basic " + base64.b64encode(f"{i}:{s}".encode()).decode()


def token(c=None, **how):
    body, h = form(grant_type="password", username=akid, password=aksecret, **how.get("extra", {}))
    if "auth" in how:
        h["Authorization"] = how["auth"]
    return call("POST", "/auth/token", body, h, c)


# Discovery.
st, j, _ = call("GET", "/.well-known/openid-configuration")
expect("openid-configuration status", st, 200)
expect("issuer", j["issuer"], url)
expect("token_endpoint", j["token_endpoint"], url + "/auth/token")
st, j, _ = call("GET", "/.well-known/cxone-configuration?tenantId=" + tenant)
expect("cxone-configuration status", st, 200)
expect("cxone-configuration members", sorted(j),
       sorted(["tenantId", "api_endpoint", "area", "domain", "cluster", "acdDomain",
               "uhDomain", "dfo_endpoint"]))
expect("tenantId", j["tenantId"], tenant)
expect("api_endpoint", j["api_endpoint"], url)
expect("dfo_endpoint defaults to the sim", j["dfo_endpoint"], url)
expect("area", j["area"], "na1")
expect("unknown tenantId", call("GET", "/.well-known/cxone-configuration?tenantId=nope")[0], 404)
expect("no tenantId", call("GET", "/.well-known/cxone-configuration")[0], 404)

# Tokens: Basic raw, Basic form-urlencoded (RFC 6749 2.3.1), client in the body.
q = urllib.parse.quote_plus
for name, how in [("basic raw", {"auth": basic(cid, csecret)}),
                  ("basic form-urlencoded", {"auth": basic(q(cid), q(csecret))}),
                  ("client in the body", {"extra": {"client_id": cid, "client_secret": csecret}})]:
    st, j, r = token(**how)
    expect(f"token ({name}) status", st, 200)
    expect(f"token ({name}) members", sorted(j), ["access_token", "expires_in", "id_token", "token_type"])
    expect(f"token ({name}) type", j["token_type"], "Bearer")
    expect(f"token ({name}) expires_in", j["expires_in"], 600)
    parts = j["id_token"].split(".")
    expect(f"id_token ({name}) has 3 parts", len(parts), 3)
    expect(f"id_token ({name}) unpadded", any("=" in p for p in parts), False)
    payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    expect(f"id_token ({name}) tenantId", payload["tenantId"], tenant)
    expect(f"id_token ({name}) iss", payload["iss"], url)
    expect(f"id_token ({name}) sub present", bool(payload.get("sub")), True)
    expect(f"id_token ({name}) exp - iat", payload["exp"] - payload["iat"], 600)
    expect(f"id_token ({name}) iat is now", abs(payload["iat"] - time.time()) < 120, True)
TOK = j["access_token"]
AUTH = {"Authorization": "Bearer " + TOK}

st, j, r = token(auth=basic(cid, "wrong"))
expect("wrong client secret", (st, j), (401, {"error": "invalid_client"}))
st, j, _ = token()
expect("no client authentication", (st, j), (401, {"error": "invalid_client"}))
st, j, _ = token(extra={"client_id": cid, "client_secret": csecret + "x"})
expect("wrong client secret in the body", (st, j), (401, {"error": "invalid_client"}))
st, j, _ = token(auth=basic(cid, csecret), extra={"client_id": cid, "client_secret": csecret})
expect("two client authentication methods", (st, j["error"]), (400, "invalid_request"))
body, h = form(grant_type="password", username=akid, password=aksecret + "x")
h["Authorization"] = basic(cid, csecret)
st, j, _ = call("POST", "/auth/token", body, h)
expect("wrong access key secret", (st, j["error"]), (400, "invalid_grant"))
body, h = form(grant_type="client_credentials")
h["Authorization"] = basic(cid, csecret)
st, j, _ = call("POST", "/auth/token", body, h)
expect("client_credentials grant", (st, j), (400, {"error": "unsupported_grant_type"}))
expect("the seed's /oauth/token is not served", call("POST", "/oauth/token", body, h)[0], 404)

# Custom fields.
P = "/dfo/3.0/customers/cust-1/custom-fields"
st, j, r = call("PUT", P, [{"ident": "first_name", "value": "Ann"}, {"ident": "email", "value": "ann@example.com"}], AUTH)
expect("PUT custom fields", st, 204)
st, j, r = call("PUT", P, [{"ident": "first_name", "value": "Anna"}, {"ident": "crm_id", "value": "x" * 1024}], AUTH)
expect("PUT again, a 1,024-character value", st, 204)
st, j, _ = call("GET", "/_sim/contacts/cust-1")
expect("stored: the last value of each ident", j["fields"],
       {"first_name": "Anna", "email": "ann@example.com", "crm_id": "x" * 1024})
expect("stored: updates", j["updates"], 2)
for name, body, want_in in [
        ("unknown ident", [{"ident": "phone", "value": "1"}], "phone"),
        ("1,025-character value", [{"ident": "last_name", "value": "y" * 1025}], "longer than 1024"),
        ("non-string value", [{"ident": "last_name", "value": 5}], "must be a string"),
        ("not an array", {"ident": "last_name", "value": "B"}, "JSON array"),
        ("element not an object", ["last_name"], "must be an object"),
        ("empty array", [], "at least one")]:
    st, j, _ = call("PUT", P, body, AUTH)
    expect(f"{name}: status", st, 400)
    expect(f"{name}: named in {j}", want_in in j["error"], True)
st, j, _ = call("PUT", P, "[{\"ident\":", {**AUTH, "Content-Type": "application/json"})
expect("malformed JSON", st, 400)
st, j, _ = call("GET", "/_sim/contacts/cust-1")
expect("a refused PUT changes nothing", (j["fields"]["first_name"], j["updates"]), ("Anna", 2))
st, j, r = call("PUT", P, [{"ident": "first_name", "value": "Z"}])
expect("PUT without a token", (st, j), (401, {"error": "invalid_token"}))
st, j, r = call("PUT", P, [{"ident": "first_name", "value": "Z"}], {"Authorization": "Bearer nope"})
expect("PUT with an unknown token", st, 401)
st, j, _ = call("GET", "/dfo/3.0/customers/custom-field-definitions", None, AUTH)
expect("definitions", (st, [d["ident"] for d in j["definitions"]]),
       (200, ["first_name", "last_name", "email", "crm_id"]))
expect("definitions: type", {d["type"] for d in j["definitions"]}, {"text"})
expect("definitions without a token", call("GET", "/dfo/3.0/customers/custom-field-definitions")[0], 401)
expect("the seed's PATCH is not served",
       call("PATCH", "/api/v2/contacts/c-1", {"first_name": "A"}, AUTH)[0], 404)

# An expired token: --token-ttl 1 on the other sim.
S = conn_for(short_url)
st, j, _ = token(S, auth=basic(cid, csecret))
expect("short token", st, 200)
short = {"Authorization": "Bearer " + j["access_token"]}
expect("short token works at first", call("PUT", P, [{"ident": "email", "value": "a@b.c"}], short, S)[0], 204)
time.sleep(2.2)
st, j, _ = call("PUT", P, [{"ident": "email", "value": "a@b.c"}], short, S)
expect("expired token", (st, j), (401, {"error": "invalid_token"}))

# Rate limit: 429 without Retry-After, in the header or the body.
st, _, _ = call("POST", "/_sim/config", {"rateLimit": 0.01, "burst": 1})
expect("rate limit set", st, 200)
seen = []
for i in range(3):
    st, j, r = call("GET", "/dfo/3.0/customers/custom-field-definitions", None, AUTH)
    seen.append(st)
    if st == 429:
        expect("429 has no Retry-After", r.getheader("Retry-After"), None)
        expect("429 body", j, {"error": "rate limit exceeded"})
expect("the bucket of 1 lets one through, then 429", seen, [200, 429, 429])
st, j, _ = call("GET", "/_sim/stats")
expect("stats: rateLimited", j["rateLimited"], 2)
expect("stats: tokenFetches", j["tokenFetches"], 3)
expect("stats: one connection, one handshake", (j["connections"], j["tlsHandshakes"]), (1, 1))
print(f"{checks} checks passed")
PY
log "$(tail -n 1 "$T/check.log")"

log "usage errors"
rc=0
"$CXW_BIN/cxone-sim" --listen 127.0.0.1:0 --profile cxone --retry-after none >/dev/null 2>"$T/err" || rc=$?
[ "$rc" = 2 ] && grep -q "Retry-After" "$T/err" || fail "--retry-after with --profile cxone: exit $rc"
rc=0
"$CXW_BIN/cxone-sim" --listen 127.0.0.1:0 --profile bogus >/dev/null 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || fail "--profile bogus: exit $rc"
rc=0
"$CXW_BIN/cxone-sim" --listen 127.0.0.1:0 --dfo-base-url ftp://x >/dev/null 2>"$T/err" || rc=$?
[ "$rc" = 2 ] || fail "--dfo-base-url ftp://x: exit $rc"
"$CXW_BIN/cxone-sim" --help >"$T/help"
for flag in --profile --tenant-id --area --domain --dfo-base-url --access-key-id \
  --access-key-secret --custom-fields --tls-cert --tls-key; do
  grep -q -- "$flag" "$T/help" || fail "--help lacks $flag"
done
grep -qF -- "$AKSECRET" "$T/sim.log" "$T/short.log" && fail "an access key secret reached the log"
grep -qF -- "$CSECRET" "$T/sim.log" "$T/short.log" && fail "a client secret reached the log"
log "PASS"
