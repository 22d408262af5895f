#!/usr/bin/env bash
# ctest-label: asan
# test_sim_cxone_address_book.sh: cxone-sim --profile cxone serves CXone's
# address-book dynamic entries over HTTPS (verified against a test CA): PUT
# {admin prefix}/address-books/{id}/dynamic-entries?fullLoad=false upserts
# many entries per request into the contact store (the last value of each
# field wins); one bad entry (a bad e-mail, no externalId, an unknown field,
# a non-string value) rejects the whole request with a 400 naming the entry
# and nothing stored; 404 for an unknown book; 400 without fullLoad=false;
# 413 over 1,000 entries; the stats count requests, entries and
# rejections; 429 without Retry-After; injected errors and drops apply; GET
# of the books; --admin-prefix and --latency-per-entry-ms on a second sim;
# usage errors.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tls.sh"

make_test_ca "$T/ca" >/dev/null || fail "make_test_ca failed"
CID=ab-client
CSECRET='ab+se/cr=t'
AKID=ab-key
AKSECRET='ab-key+secret'
SIM_ARGS=(--profile cxone --tls-cert "$TLS_CERT" --tls-key "$TLS_KEY"
  --client-id "$CID" --client-secret "$CSECRET"
  --access-key-id "$AKID" --access-key-secret "$AKSECRET")

# start_one NAME ARGS...: a sim, its URL in SIM_URL. Called in this shell,
# not in $(...): a subshell's PIDS+= would be lost and the sim outlive the
# test.
start_one() {
  local name=$1 url
  shift
  "$CXW_BIN/cxone-sim" --listen 127.0.0.1:0 "${SIM_ARGS[@]}" "$@" \
    >"$T/$name.out" 2>"$T/$name.log" &
  PIDS+=($!)
  url=$(first_line "$T/$name.out" 20) || fail "sim $name did not start"
  url=${url#listening on }
  [[ "$url" =~ ^https://127\.0\.0\.1:[0-9]+$ ]] || fail "sim $name listen line: $url"
  SIM_URL=$url
}

start_one sim --address-books 1001,book_A-2
URL=$SIM_URL
start_one alt --admin-prefix '/api/v31.0~x' --address-books 7 --latency-per-entry-ms 40
ALT_URL=$SIM_URL
log "cxone sims at $URL and $ALT_URL"

python3 - "$URL" "$ALT_URL" "$TLS_CA" "$CID" "$CSECRET" "$AKID" "$AKSECRET" \
  >"$T/check.log" 2>&1 <<'PY' || { cat "$T/check.log" >&2; fail "address-book checks failed"; }
import base64, http.client, json, ssl, sys, time, urllib.parse

url, alt_url, ca, cid, csecret, akid, aksecret = sys.argv[1:8]
ctx = ssl.create_default_context(cafile=ca)  # verification on
checks = 0
PREFIX = "/inContactAPI/services/v30.0"
BOOK = PREFIX + "/address-books/1001/dynamic-entries"
PUT_PATH = BOOK + "?fullLoad=false"


def conn_for(u):
    p = urllib.parse.urlsplit(u)
    return http.client.HTTPSConnection(p.hostname, p.port, context=ctx, timeout=20)


conns = {url: conn_for(url), alt_url: conn_for(alt_url)}


def call(method, path, body=None, headers=None, u=url):
    h = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        h.setdefault("Content-Type", "application/json")
    c = conns[u]
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


def login(u=url):
    body = urllib.parse.urlencode({"grant_type": "password", "username": akid,
                                   "password": aksecret})
    basic = base64.b64encode(f"{cid}:{csecret}".encode()).decode()
    st, j, _ = call("POST", "/auth/token", body,
                    {"Content-Type": "application/x-www-form-urlencoded",
                     "Authorization": "Basic " + basic}, u)
    expect("login", st, 200)
    return {"Authorization": "Bearer " + j["access_token"]}


AUTH = login()
# What the stats must say, tallied as the checks go.
want = {"addressBookRequests": 0, "addressBookEntries": 0, "addressBookRejected": 0}


def put(entries, path=PUT_PATH, headers=None, body=None):
    """A PUT that reaches the handler (no faults on): tallied."""
    st, j, r = call("PUT", path, body if body is not None else {"addressBookEntries": entries},
                    AUTH if headers is None else headers)
    want["addressBookRequests"] += 1
    if 400 <= st < 500:
        want["addressBookRejected"] += 1
    if st == 200:
        want["addressBookEntries"] += j["entriesUpserted"]
    return st, j, r


def contact(cid_):
    st, j, _ = call("GET", "/_sim/contacts/" + cid_)
    return j if st == 200 else None


# The books.
st, j, _ = call("GET", PREFIX + "/address-books", None, AUTH)
expect("list", (st, [b["addressBookId"] for b in j["addressBooks"]]), (200, [1001, "book_A-2"]))
st, j, _ = call("GET", PREFIX + "/address-books/1001", None, AUTH)
expect("one book", (st, j), (200, {"addressBook": {"addressBookId": 1001,
                                                  "addressBookName": "cxone-sim book 1001",
                                                  "addressBookType": "Dynamic"}}))
st, j, _ = call("GET", PREFIX + "/address-books/9999", None, AUTH)
expect("unknown book (GET)", (st, j), (404, {"error": "address book not found",
                                             "addressBookId": "9999"}))
expect("book without a token", call("GET", PREFIX + "/address-books/1001")[0], 401)
st, j, r = call("GET", BOOK + "?fullLoad=false", None, AUTH)
expect("GET on dynamic-entries", (st, r.getheader("Allow")), (405, "PUT"))
expect("a longer version segment is not the prefix",
       call("GET", "/inContactAPI/services/v30.0x/address-books", None, AUTH)[0], 404)

# Upsert of 3 entries; the last value of each field wins, others merge.
st, j, _ = put([
    {"externalId": "c-1", "firstName": "Ann", "email": "ann@example.com", "phone": "+15550001"},
    {"externalId": "c-2", "firstName": "Bob", "lastName": "Stone", "mobile": "+15550002"},
    {"externalId": "c-1", "firstName": "Anna", "lastName": "Lee"},
], headers={**AUTH, "Idempotency-Key": "batch-1"})
expect("upsert of 3", (st, j), (200, {"addressBookId": 1001, "entriesUpserted": 3}))
c1 = contact("c-1")
expect("c-1: last value wins, fields merged", c1["fields"],
       {"firstName": "Anna", "lastName": "Lee", "email": "ann@example.com", "phone": "+15550001"})
expect("c-1: two entries, two updates", (c1["updates"], c1["lastRequestId"]), (2, "batch-1"))
expect("c-2", contact("c-2")["fields"],
       {"firstName": "Bob", "lastName": "Stone", "mobile": "+15550002"})
st, j, _ = put([{"externalId": "c-2", "mobile": "+15559999", "email": ""}])
expect("second upsert", st, 200)
expect("c-2 after the second", contact("c-2")["fields"],
       {"firstName": "Bob", "lastName": "Stone", "mobile": "+15559999", "email": ""})
st, j, _ = put([{"externalId": "c-3", "firstName": "Cy"}], path=PREFIX +
               "/address-books/book_A-2/dynamic-entries?fullLoad=false")
expect("the second book", (st, j["addressBookId"]), (200, "book_A-2"))

# One bad entry rejects the whole request, naming it; nothing is stored.
before = contact("c-1")
for name, entries, index, ext, field, text in [
        ("bad e-mail in entry 2",
         [{"externalId": "n-0", "firstName": "N"}, {"externalId": "n-1", "email": "not-an-address"},
          {"externalId": "c-1", "firstName": "Zed"}], 1, "n-1", "email", "not a valid e-mail"),
        ("missing externalId",
         [{"externalId": "n-0", "firstName": "N"}, {"externalId": "c-1", "firstName": "Zed"},
          {"firstName": "NoId"}], 2, None, None, "externalId missing"),
        ("externalId not a string", [{"externalId": 5}], 0, None, "externalId", "must be a string"),
        ("externalId with a slash", [{"externalId": "a/b"}], 0, None, "externalId", "[A-Za-z0-9._-]"),
        ("unknown field", [{"externalId": "c-1", "firstName": "Zed"}, {"externalId": "n-2", "title": "Dr"}],
         1, "n-2", "title", "unknown field"),
        ("non-string value", [{"externalId": "n-0", "phone": 5550001}], 0, "n-0", "phone", "must be a string"),
        ("null value", [{"externalId": "n-0", "lastName": None}], 0, "n-0", "lastName", "must be a string"),
        ("1,025 characters", [{"externalId": "n-0", "lastName": "y" * 1025}], 0, "n-0", "lastName", "longer than 1024"),
        ("entry not an object", [{"externalId": "n-0"}, "n-1"], 1, None, None, "must be an object")]:
    st, j, _ = put(entries)
    expect(f"{name}: status", st, 400)
    expect(f"{name}: index", j.get("index"), index)
    expect(f"{name}: externalId", j.get("externalId"), ext)
    expect(f"{name}: field", j.get("field"), field)
    expect(f"{name}: message {j['error']!r}", text in j["error"] and f"entry {index}" in j["error"], True)
    expect(f"{name}: nothing stored (n-0)", contact("n-0"), None)
    expect(f"{name}: nothing stored (c-1)", contact("c-1"), before)

# The request as a whole.
for name, body, status, text in [
        ("not JSON", "{\"addressBookEntries\":[", 400, "JSON object"),
        ("an array", [{"externalId": "n-0"}], 400, "JSON object"),
        ("no addressBookEntries", {"entries": []}, 400, "JSON object"),
        ("empty", {"addressBookEntries": []}, 400, "empty"),
        ("1,001 entries", {"addressBookEntries": [{"externalId": f"m-{i}"} for i in range(1001)]},
         413, "more than 1000")]:
    st, j, _ = put(None, body=body if isinstance(body, str) else json.dumps(body),
                   headers={**AUTH, "Content-Type": "application/json"})
    expect(f"{name}: status", st, status)
    expect(f"{name}: message {j}", text in j["error"], True)
expect("nothing from the refused bodies", contact("m-0"), None)
st, j, _ = put([{"externalId": f"m-{i}", "firstName": str(i)} for i in range(1000)])
expect("1,000 entries", (st, j["entriesUpserted"]), (200, 1000))
expect("the 1,000th stored", contact("m-999")["fields"], {"firstName": "999"})

# The book and fullLoad.
st, j, _ = put([{"externalId": "c-1"}], path=PREFIX + "/address-books/9999/dynamic-entries?fullLoad=false")
expect("unknown book", (st, j), (404, {"error": "address book not found", "addressBookId": "9999"}))
for q in ["", "?fullLoad=true", "?fullLoad=FALSE", "?fullLoad", "?fullLoad=false&fullLoad=true",
          "?fullLoad=false&fullLoad=false", "?fullload=false"]:
    st, j, _ = put([{"externalId": "n-0", "firstName": "F"}], path=BOOK + q)
    expect(f"fullLoad {q!r}: status", st, 400)
    expect(f"fullLoad {q!r}: message", "fullLoad=false" in j["error"], True)
expect("nothing stored without fullLoad=false", contact("n-0"), None)
st, j, _ = put([{"externalId": "c-1"}], path=PUT_PATH + "&other=1")
expect("another query argument is ignored", st, 200)

# Tokens.
st, j, r = put([{"externalId": "n-0"}], headers={})
expect("no token", (st, j, r.getheader("WWW-Authenticate")), (401, {"error": "invalid_token"}, "Bearer"))
expect("unknown token", put([{"externalId": "n-0"}], headers={"Authorization": "Bearer nope"})[0], 401)
expect("nothing stored without a token", contact("n-0"), None)

# The stats.
st, j, _ = call("GET", "/_sim/stats")
for k, v in want.items():
    expect(f"stats: {k}", j[k], v)
expect("stats: contactsApplied counts each entry", j["contactsApplied"],
       want["addressBookEntries"])

# Injected errors and drops apply; the handler is not reached.
expect("errorRate 1", call("POST", "/_sim/config", {"errorRate": 1})[0], 200)
st, j, _ = call("PUT", PUT_PATH, {"addressBookEntries": [{"externalId": "n-0"}]}, AUTH)
expect("injected error", st in (500, 502, 503), True)
expect("dropRate 1", call("POST", "/_sim/config", {"errorRate": 0, "dropRate": 1})[0], 200)
try:
    st = call("PUT", PUT_PATH, {"addressBookEntries": [{"externalId": "n-0"}]}, AUTH)[0]
except (http.client.HTTPException, ConnectionError, ssl.SSLError):
    st = "dropped"
expect("dropped", st, "dropped")
conns[url] = conn_for(url)
expect("dropRate 0", call("POST", "/_sim/config", {"dropRate": 0})[0], 200)
expect("nothing stored by faulted PUTs", contact("n-0"), None)

# Rate limit (requests, not entries): 429 without Retry-After.
expect("rate limit set", call("POST", "/_sim/config", {"rateLimit": 0.01, "burst": 1})[0], 200)
seen = []
for i in range(3):
    st, j, r = call("PUT", PUT_PATH, {"addressBookEntries": [{"externalId": f"r-{i}"}, {"externalId": f"s-{i}"}]}, AUTH)
    seen.append(st)
    if st == 429:
        expect("429 has no Retry-After", r.getheader("Retry-After"), None)
        expect("429 body", j, {"error": "rate limit exceeded"})
    else:
        want["addressBookRequests"] += 1
        want["addressBookEntries"] += 2
expect("a bucket of 1: one PUT of 2 entries, then 429", seen, [200, 429, 429])
st, j, _ = call("GET", "/_sim/stats")
for k, v in want.items():
    expect(f"stats after faults: {k}", j[k], v)
expect("stats: rateLimited", j["rateLimited"], 2)
expect("stats: dropped", j["dropped"], 1)

# The other sim: --admin-prefix and --latency-per-entry-ms 40.
ALT = login(alt_url)
P = "/api/v31.0~x/address-books/7/dynamic-entries?fullLoad=false"
expect("default prefix not served there",
       call("PUT", PUT_PATH.replace("1001", "7"), {"addressBookEntries": [{"externalId": "a"}]}, ALT, alt_url)[0], 404)
st, j, _ = call("GET", "/api/v31.0~x/address-books/7", None, ALT, alt_url)
expect("book 7 under the custom prefix", (st, j["addressBook"]["addressBookId"]), (200, 7))
t0 = time.monotonic()
st, j, _ = call("PUT", P, {"addressBookEntries": [{"externalId": f"e-{i}"} for i in range(10)]}, ALT, alt_url)
took = time.monotonic() - t0
expect("10 entries under the custom prefix", (st, j["entriesUpserted"]), (200, 10))
expect(f"10 entries x 40 ms: took {took:.3f} s", took >= 0.4, True)
st, j, _ = call("PUT", P, {"addressBookEntries": [{"externalId": "e-1", "email": "bad"}]}, ALT, alt_url)
expect("a rejected entry is answered too", st, 400)
print(f"{checks} checks passed")
PY
log "$(tail -n 1 "$T/check.log")"

log "usage errors"
for bad in "--admin-prefix nope" "--admin-prefix /a/" "--admin-prefix /a//b" \
  "--admin-prefix /a/../b" "--address-books 1001,bad!id" "--address-books 1,1" \
  "--latency-per-entry-ms -1" "--latency-per-entry-ms 10001"; do
  rc=0
  # shellcheck disable=SC2086 # word splitting wanted: flag and value
  "$CXW_BIN/cxone-sim" --listen 127.0.0.1:0 --profile cxone $bad >/dev/null 2>"$T/err" || rc=$?
  [ "$rc" = 2 ] || fail "$bad: exit $rc, $(cat "$T/err")"
done
"$CXW_BIN/cxone-sim" --help >"$T/help"
for flag in --admin-prefix --address-books --latency-per-entry-ms; do
  grep -q -- "$flag" "$T/help" || fail "--help lacks $flag"
done
grep -qF -- "$AKSECRET" "$T/sim.log" "$T/alt.log" && fail "an access key secret reached the log"
log "PASS"
