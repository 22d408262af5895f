#!/usr/bin/env bash
# test_sim_api.sh: cxone-sim answers the CXone API shape (DESIGN.md) and
# applies its faults (rate limit, drop, error, latency) as its flags say.
#
# Env: CXW_BIN = the build's bin directory (holds cxone-sim).
# Every wait is bounded; every sim started is killed on exit.
set -euo pipefail

BIN=${CXW_BIN:?CXW_BIN must name the build bin directory}
SIM=$BIN/cxone-sim
WORK=$(mktemp -d "${TMPDIR:-/tmp}/test_sim_api.XXXXXX")
PIDS=()
FAILS=0
CHECKS=0

cleanup() {
        local pid
        for pid in "${PIDS[@]}"; do
                kill -TERM "$pid" 2>/dev/null || true
        done
        for pid in "${PIDS[@]}"; do
                wait "$pid" 2>/dev/null || true
        done
        rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
        echo "FAIL: $*" >&2
        FAILS=$((FAILS + 1))
}

ok() {
        CHECKS=$((CHECKS + 1))
}

# expect NAME ACTUAL EXPECTED
expect() {
        if [[ "$2" == "$3" ]]; then ok; else fail "$1: got '$2', want '$3'"; fi
}

# expect_true NAME COMMAND...: the command must succeed.
expect_true() {
        local name=$1
        shift
        if "$@"; then ok; else fail "$name"; fi
}

# jget JSON PYTHON-EXPR: evaluates EXPR with j = the parsed JSON.
jget() {
        python3 -c 'import json,sys; j=json.loads(sys.argv[1]); r=eval(sys.argv[2]); print(json.dumps(r) if isinstance(r,(dict,list,bool)) or r is None else r)' "$1" "$2"
}

# start_sim ARGS...: starts a sim on a free port; sets SIM_PID and URL.
start_sim() {
        local out=$WORK/sim.$RANDOM.out line="" i
        "$SIM" --listen 127.0.0.1:0 --log-level warn "$@" >"$out" 2>>"$WORK/sim.err" &
        SIM_PID=$!
        PIDS+=("$SIM_PID")
        for i in $(seq 100); do
                line=$(head -n1 "$out" 2>/dev/null || true)
                [[ -n "$line" ]] && break
                kill -0 "$SIM_PID" 2>/dev/null || break
                sleep 0.05
        done
        if [[ ! "$line" =~ ^listening\ on\ http://127\.0\.0\.1:([0-9]+)$ ]]; then
                echo "cxone-sim did not start: '$line'" >&2
                cat "$WORK/sim.err" >&2 || true
                exit 1
        fi
        URL="http://127.0.0.1:${BASH_REMATCH[1]}"
}

# stop_sim: SIGTERM, bounded wait; the sim must exit 0.
stop_sim() {
        local i rc=0
        kill -TERM "$SIM_PID"
        for i in $(seq 100); do
                kill -0 "$SIM_PID" 2>/dev/null || break
                sleep 0.05
        done
        if kill -0 "$SIM_PID" 2>/dev/null; then
                fail "cxone-sim did not stop within 5 s of SIGTERM"
                kill -KILL "$SIM_PID" 2>/dev/null || true
        fi
        wait "$SIM_PID" || rc=$?
        expect "cxone-sim exit status after SIGTERM" "$rc" 0
}

CURL=(curl -sS --max-time 10)

# req METHOD PATH [curl args...]: prints "STATUS BODY".
req() {
        local method=$1 path=$2
        shift 2
        "${CURL[@]}" -X "$method" -o "$WORK/body" -w '%{http_code}' "$@" "$URL$path" >"$WORK/code" || true
        echo "$(cat "$WORK/code") $(cat "$WORK/body" 2>/dev/null || true)"
}

token() {
        local out
        out=$(req POST /oauth/token -u test-client:test-secret -d grant_type=client_credentials)
        jget "${out#* }" 'j["access_token"]'
}

stats() {
        "${CURL[@]}" "$URL/_sim/stats"
}

echo "== command line"
rc=0
"$SIM" --help >"$WORK/help" || rc=$?
expect "--help exit status" "$rc" 0
for flag in --listen --client-id --client-secret --token-ttl --token-fail-rate \
        --rate-limit --burst --retry-after --latency-ms --latency-jitter-ms --error-rate \
        --drop-rate --contacts-file --unknown-contact-prefix --no-email-validation \
        --allowed-fields --threads --seed; do
        expect_true "--help lists $flag" grep -q -- "$flag" "$WORK/help"
done
for bad in "--listen 127.0.0.1:0 --bogus" "--listen 127.0.0.1:0 --error-rate 2" \
        "--listen nohost:0" "--listen 127.0.0.1:70000" "--listen 127.0.0.1:0 --retry-after x" \
        "--listen 127.0.0.1:0 --contacts-file $WORK/missing" ""; do
        rc=0
        # shellcheck disable=SC2086
        "$SIM" $bad >/dev/null 2>"$WORK/err" || rc=$?
        expect "exit status of cxone-sim $bad" "$rc" 2
        expect_true "cxone-sim $bad explains itself" test -s "$WORK/err"
done

echo "== token endpoint, contacts, stats"
start_sim --unknown-contact-prefix missing-
out=$(req POST /oauth/token -u test-client:test-secret -d 'grant_type=client_credentials&scope=x')
expect "token with good credentials: status" "${out%% *}" 200
expect_true "token is 32+ hex chars" \
        [ "$(jget "${out#* }" 'bool(__import__("re").fullmatch("[0-9a-f]{32,}", j["access_token"]))')" = true ]
expect "token expires_in" "$(jget "${out#* }" 'j["expires_in"]')" 3600
expect "token type" "$(jget "${out#* }" 'j["token_type"]')" Bearer
out=$(req POST /oauth/token -u test-client:wrong -d grant_type=client_credentials)
expect "token with bad secret" "$out" '401 {"error":"invalid_client"}'
out=$(req POST /oauth/token -d grant_type=client_credentials)
expect "token without credentials" "$out" '401 {"error":"invalid_client"}'
out=$(req POST /oauth/token -u test-client:test-secret -d grant_type=password)
expect "token with wrong grant_type" "$out" '400 {"error":"unsupported_grant_type"}'
head -c 9000 /dev/zero | tr '\0' a >"$WORK/big-form"
out=$(req POST /oauth/token -u test-client:test-secret --data-binary @"$WORK/big-form")
expect "token body over 8 KiB" "${out%% *}" 413

TOK=$(token)
AUTH=(-H "Authorization: Bearer $TOK" -H 'Content-Type: application/json')
out=$(req PATCH /api/v2/contacts/c-1 -d '{"firstName":"Ann"}')
expect "PATCH without token" "${out%% *}" 401
out=$(req PATCH /api/v2/contacts/c-1 -H 'Authorization: Bearer 0123456789abcdef0123456789abcdef' -d '{}')
expect "PATCH with unknown token" "${out%% *}" 401
out=$(req PATCH /api/v2/contacts/c-1 "${AUTH[@]}" -H 'X-Request-Id: req-1' \
        -d '{"firstName":"Ann","email":"ann@example.com"}')
expect "PATCH ok: status" "${out%% *}" 200
expect "PATCH ok: answer is the stored contact" "$(jget "${out#* }" '[j["contactId"], j["firstName"], j["email"]]')" \
        '["c-1", "Ann", "ann@example.com"]'
out=$(req PATCH /api/v2/contacts/c-1 "${AUTH[@]}" -H 'X-Request-Id: req-1' -d '{"lastName":"Lee"}')
expect "PATCH replayed with the same X-Request-Id is applied" "${out%% *}" 200
out=$(req PATCH /api/v2/contacts/c-1 "${AUTH[@]}" -H 'Idempotency-Key: key-2' -d '{"firstName":"Anne"}')
expect "PATCH with Idempotency-Key" "${out%% *}" 200
out=$(req GET /_sim/contacts/c-1)
expect "GET /_sim/contacts shows the merged fields" "$(jget "${out#* }" '[j["fields"], j["updates"], j["lastRequestId"]]')" \
        '[{"firstName": "Anne", "email": "ann@example.com", "lastName": "Lee"}, 3, "key-2"]'
out=$(req GET /_sim/contacts/never-seen)
expect "GET /_sim/contacts of an unseen contact" "${out%% *}" 404

out=$(req PATCH /api/v2/contacts/c-2 "${AUTH[@]}" -d '{"contactId":"c-2","firstName":"X"}')
expect "PATCH body with contactId" "$out" '400 {"error":"contactId must not be in the body"}'
out=$(req PATCH /api/v2/contacts/c-2 "${AUTH[@]}" -d '{"email":"not an email"}')
expect "PATCH with a bad email: status" "${out%% *}" 400
expect "PATCH with a bad email names the field" "$(jget "${out#* }" 'j["field"]')" email
for bad in 'a@b' '@b.co' 'a@@b.co' 'a b@c.co'; do
        out=$(req PATCH /api/v2/contacts/c-2 "${AUTH[@]}" -d "{\"email\":\"$bad\"}")
        expect "PATCH with email '$bad'" "${out%% *}" 400
done
out=$(req PATCH /api/v2/contacts/c-2 "${AUTH[@]}" -d '{"phone":"123"}')
expect "PATCH with a field not allowed: status" "${out%% *}" 400
expect "PATCH with a field not allowed names it" "$(jget "${out#* }" 'j["field"]')" phone
out=$(req PATCH /api/v2/contacts/c-2 "${AUTH[@]}" -d '{"firstName":7}')
expect "PATCH with a non-string field" "${out%% *}" 400
out=$(req PATCH /api/v2/contacts/c-2 "${AUTH[@]}" -d '["firstName"]')
expect "PATCH with a non-object body" "${out%% *}" 400
out=$(req PATCH /api/v2/contacts/c-2 "${AUTH[@]}" -d '{"firstName":')
expect "PATCH with broken JSON" "${out%% *}" 400
out=$(req PATCH '/api/v2/contacts/bad%20id' "${AUTH[@]}" -d '{}')
expect "PATCH with an invalid contactId" "${out%% *}" 400
out=$(req PATCH "/api/v2/contacts/$(printf 'x%.0s' $(seq 129))" "${AUTH[@]}" -d '{}')
expect "PATCH with a 129-char contactId" "${out%% *}" 400
out=$(req PATCH /api/v2/contacts/missing-7 "${AUTH[@]}" -d '{"firstName":"X"}')
expect "PATCH of an unknown-prefix contact" "${out%% *}" 404
python3 -c 'import json; print(json.dumps({"firstName": "x" * 70000}))' >"$WORK/big.json"
out=$(req PATCH /api/v2/contacts/c-2 "${AUTH[@]}" --data-binary @"$WORK/big.json")
expect "PATCH body over 64 KiB" "${out%% *}" 413
out=$(req GET /nowhere)
expect "unknown path" "${out%% *}" 404
out=$(req DELETE /api/v2/contacts/c-1 "${AUTH[@]}")
expect "wrong method" "${out%% *}" 405
expect_true "answers are application/json" \
        grep -qi '^content-type: application/json' <("${CURL[@]}" -D - -o /dev/null "$URL/_sim/stats")
# Keep-alive: two requests in one curl run share one connection.
"${CURL[@]}" -v -o /dev/null -o /dev/null "$URL/_sim/stats" "$URL/_sim/stats" 2>"$WORK/ka" || true
expect_true "keep-alive: the second request reuses the connection" \
        grep -qiE 're-?using existing connection' "$WORK/ka"

s=$(stats)
# Counted: /api/ and /oauth answers only. 200: 2 tokens + 3 PATCHes; 400: wrong
# grant_type + 12 bad PATCHes; 401: 2 tokens + 2 PATCHes; 404: missing-7.
expect "stats: contactsApplied" "$(jget "$s" 'j["contactsApplied"]')" 3
expect "stats: appliedDuplicates" "$(jget "$s" 'j["appliedDuplicates"]')" 1
expect "stats: patchBodiesWithContactId" "$(jget "$s" 'j["patchBodiesWithContactId"]')" 1
expect "stats: contactsKnown" "$(jget "$s" 'j["contactsKnown"]')" 1
expect "stats: tokenFetches" "$(jget "$s" 'j["tokenFetches"]')" 2
expect "stats: tokenRejects" "$(jget "$s" 'j["tokenRejects"]')" 4
expect "stats: requests by status" "$(jget "$s" 'j["requests"]')" \
        '{"200": 5, "400": 13, "401": 4, "404": 1, "405": 1, "413": 2}'
expect "stats: requestsTotal" "$(jget "$s" 'j["requestsTotal"]')" 26
expect "stats: inFlight when idle" "$(jget "$s" 'j["inFlight"]')" 0
expect "stats: nothing dropped or limited" "$(jget "$s" '[j["dropped"], j["rateLimited"]]')" '[0, 0]'

out=$(req POST /_sim/config -d '{"errorRate":0.5,"latencyMs":7,"burst":3}')
expect "POST /_sim/config changes only the keys given" \
        "$(jget "${out#* }" '[j["errorRate"], j["latencyMs"], j["burst"], j["dropRate"], j["rateLimit"]]')" \
        '[0.5, 7, 3, 0.0, 0.0]'
out=$(req POST /_sim/config -d '{"errorRate":3}')
expect "POST /_sim/config rejects a bad value" "${out%% *}" 400
out=$(req POST /_sim/config -d '{"nope":1}')
expect "POST /_sim/config rejects an unknown key" "${out%% *}" 400
req POST /_sim/config -d '{"errorRate":0,"latencyMs":0}' >/dev/null
out=$(req POST /_sim/reset)
expect "POST /_sim/reset" "${out%% *}" 200
s=$(stats)
expect "after reset: no contacts, no counts" \
        "$(jget "$s" '[j["contactsKnown"], j["contactsApplied"], j["requestsTotal"], j["requests"]]')" \
        '[0, 0, 0, {}]'
out=$(req GET /_sim/contacts/c-1)
expect "after reset: contact gone" "${out%% *}" 404
out=$(req PATCH /api/v2/contacts/c-1 "${AUTH[@]}" -d '{"firstName":"Ann"}')
expect "after reset: tokens still valid" "${out%% *}" 200
stop_sim

echo "== credentials are form-urlencoded before base64; tokens expire"
printf 'c-1\n\n# comment\n  c-2\r\n' >"$WORK/contacts.txt"
start_sim --client-id 'my client' --client-secret 's:e+c/ret' --token-ttl 2 \
        --contacts-file "$WORK/contacts.txt"
# RFC 6749 2.3.1: "my client" → my+client, "s:e+c/ret" → s%3Ae%2Bc%2Fret.
basic=$(printf '%s' 'my+client:s%3Ae%2Bc%2Fret' | base64 -w0)
out=$(req POST /oauth/token -H "Authorization: Basic $basic" -d grant_type=client_credentials)
expect "token with form-urlencoded credentials" "${out%% *}" 200
expect "token expires_in follows --token-ttl" "$(jget "${out#* }" 'j["expires_in"]')" 2
TOK=$(jget "${out#* }" 'j["access_token"]')
AUTH=(-H "Authorization: Bearer $TOK")
out=$(req PATCH /api/v2/contacts/c-2 "${AUTH[@]}" -d '{"lastName":"B"}')
expect "PATCH of a contact in --contacts-file" "${out%% *}" 200
out=$(req PATCH /api/v2/contacts/c-3 "${AUTH[@]}" -d '{"lastName":"B"}')
expect "PATCH of a contact not in --contacts-file" "${out%% *}" 404
sleep 2.2
out=$(req PATCH /api/v2/contacts/c-1 "${AUTH[@]}" -d '{"lastName":"B"}')
expect "PATCH with an expired token" "${out%% *}" 401
stop_sim

echo "== rate limit and Retry-After"
for mode in seconds date none; do
        start_sim --rate-limit 5 --burst 2 --retry-after "$mode"
        n429=0
        # One curl run, one keep-alive connection: 10 requests in a few ms,
        # far faster than the bucket refills (5/s), whatever the machine.
        urls=()
        for i in $(seq 10); do urls+=("$URL/api/v2/contacts/c-$i"); done
        "${CURL[@]}" -o /dev/null -D "$WORK/h" -X PATCH -d '{}' "${urls[@]}" || true
        # One line per answer: "STATUS RETRY-AFTER-VALUE" (value may be empty).
        awk 'tolower($1) ~ /^http\// { if (s) print s " " ra; s = $2; ra = "" }
             tolower($1) == "retry-after:" { sub(/^[^:]*: */, ""); sub(/\r$/, ""); ra = $0 }
             END { if (s) print s " " ra }' "$WORK/h" >"$WORK/answers"
        expect "10 answers to 10 requests ($mode)" "$(wc -l <"$WORK/answers")" 10
        while read -r code ra; do
                [[ "$code" == 429 ]] || continue
                n429=$((n429 + 1))
                case $mode in
                seconds) expect_true "Retry-After is an integer >= 1 (got '$ra')" \
                        bash -c '[[ "$1" =~ ^[0-9]+$ ]] && (( $1 >= 1 ))' _ "$ra" ;;
                date) expect_true "Retry-After is an IMF-fixdate (got '$ra')" \
                        bash -c '[[ "$1" =~ ^(Mon|Tue|Wed|Thu|Fri|Sat|Sun),\ [0-9]{2}\ [A-Z][a-z]{2}\ [0-9]{4}\ [0-9]{2}:[0-9]{2}:[0-9]{2}\ GMT$ ]]' _ "$ra" ;;
                none) expect "no Retry-After with --retry-after none" "$ra" "" ;;
                esac
        done <"$WORK/answers"
        expect_true "a burst of 10 over --rate-limit 5 --burst 2 gets 429s ($mode: $n429)" \
                test "$n429" -ge 5
        expect "stats: rateLimited counts the 429s ($mode)" \
                "$(jget "$(stats)" 'j["rateLimited"]')" "$n429"
        stop_sim
done

echo "== drop and error faults"
start_sim --drop-rate 1 --seed 1
rc=0
"${CURL[@]}" -o /dev/null -X PATCH "$URL/api/v2/contacts/c-1" -d '{}' 2>/dev/null || rc=$?
expect_true "--drop-rate 1: curl sees a connection error (rc $rc)" test "$rc" -ne 0
out=$(req POST /oauth/token -u test-client:test-secret -d grant_type=client_credentials)
expect "--drop-rate does not touch /oauth/token" "${out%% *}" 200
s=$(stats)
expect "stats: dropped" "$(jget "$s" 'j["dropped"]')" 1
stop_sim

start_sim --error-rate 1 --seed 1
codes=""
for i in $(seq 6); do
        out=$(req PATCH /api/v2/contacts/c-1 -d '{}')
        codes="$codes ${out%% *}"
done
expect_true "--error-rate 1 gives only 5xx (got$codes)" \
        bash -c '[[ "$1" =~ ^(\ 50[023])+$ ]]' _ "$codes"
expect "stats: error answers counted" \
        "$(jget "$(stats)" 'sum(v for k, v in j["requests"].items() if k.startswith("5"))')" 6
stop_sim

start_sim --token-fail-rate 1
out=$(req POST /oauth/token -u test-client:test-secret -d grant_type=client_credentials)
expect "--token-fail-rate 1 answers 503" "${out%% *}" 503
stop_sim

echo "== latency does not serialize requests"
start_sim --latency-ms 300
TOK=$(token)
t0=$(date +%s%N)
for i in $(seq 20); do
        "${CURL[@]}" -o /dev/null -w '%{http_code}\n' -X PATCH -H "Authorization: Bearer $TOK" \
                "$URL/api/v2/contacts/c-$i" -d '{"firstName":"P"}' >"$WORK/lat.$i" &
done
wait_ok=1
for job in $(jobs -p); do
        [[ " ${PIDS[*]} " == *" $job "* ]] && continue
        wait "$job" || wait_ok=0
done
ms=$((($(date +%s%N) - t0) / 1000000))
expect "20 delayed requests all succeed" "$(cat "$WORK"/lat.* | sort | uniq -c | tr -s ' ')" " 20 200"
expect_true "20 × 300 ms requests in parallel took ${ms} ms (< 3000)" test "$ms" -lt 3000 -a "$wait_ok" = 1
expect_true "the latency is applied (${ms} ms >= 300)" test "$ms" -ge 300
s=$(stats)
expect_true "stats: maxConcurrency >= 10 ($(jget "$s" 'j["maxConcurrency"]'))" \
        test "$(jget "$s" 'j["maxConcurrency"]')" -ge 10
expect "stats: contactsApplied after the parallel burst" "$(jget "$s" 'j["contactsApplied"]')" 20
expect "stats: contactsKnown after the parallel burst" "$(jget "$s" 'j["contactsKnown"]')" 20
# SIGTERM while requests sleep in the latency timer: a clean, prompt exit.
req POST /_sim/config -d '{"latencyMs":3000}' >/dev/null
for i in $(seq 5); do
        "${CURL[@]}" -o /dev/null -X PATCH "$URL/api/v2/contacts/c-$i" -d '{}' 2>/dev/null &
done
sleep 0.3
expect_true "requests are parked in the latency timer" \
        test "$(jget "$(stats)" 'j["inFlight"]')" -ge 1
stop_sim
for job in $(jobs -p); do
        wait "$job" 2>/dev/null || true
done

echo "checks: $CHECKS, failures: $FAILS"
[[ $FAILS -eq 0 ]]
