#!/usr/bin/env bash
# test_sim_api.sh: cxone-sim answers the CXone API shape (docs/cxone-sim.md) and
# applies its faults (rate limit, drop, error, latency) as its flags say;
# schedule imports become jobs that finish after --job-duration-ms, honour
# Idempotency-Key, fail on conflicts or --job-fail-rate, and are announced
# by signed webhooks.
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
        --allowed-fields --threads --seed --job-duration-ms --job-duration-jitter-ms \
        --job-fail-rate --webhook-url --webhook-secret; do
        expect_true "--help lists $flag" grep -q -- "$flag" "$WORK/help"
done
for bad in "--listen 127.0.0.1:0 --bogus" "--listen 127.0.0.1:0 --error-rate 2" \
        "--listen nohost:0" "--listen 127.0.0.1:70000" "--listen 127.0.0.1:0 --retry-after x" \
        "--listen 127.0.0.1:0 --contacts-file $WORK/missing" "" \
        "--listen 127.0.0.1:0 --job-fail-rate 2" "--listen 127.0.0.1:0 --job-duration-ms -1" \
        "--listen 127.0.0.1:0 --webhook-url http://example.com/h --webhook-secret s" \
        "--listen 127.0.0.1:0 --webhook-url http://127.0.0.1:0/h --webhook-secret s" \
        "--listen 127.0.0.1:0 --webhook-url http://127.0.0.1:9/h" \
        "--listen 127.0.0.1:0 --webhook-secret s"; do
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

# ---- schedule imports ----

# import_body CALENDAR RESOLUTION ENTRY...: ENTRY = AGENT/START/END (times
# as hh:mm on 2026-01-05, UTC).
import_body() {
        python3 - "$@" <<'PY'
import json, sys
cal, res, *entries = sys.argv[1:]
out = []
for e in entries:
    agent, start, end = e.split("/")
    out.append({"agentId": agent, "startDateTime": f"2026-01-05T{start}:00Z",
                "endDateTime": f"2026-01-05T{end}:00Z", "breaks": [],
                "availabilityOverrides": []})
print(json.dumps({"targetCalendarId": cal, "validationMode": "STRICT",
                  "conflictResolution": res, "scheduleEntries": out}))
PY
}

POLLS=0
# submit BODY [curl args...]: sets SUB (the "STATUS BODY" answer) and JOB.
submit() {
        local body=$1
        shift
        SUB=$(req POST /api/v2/wfm/schedules/import "${AUTH[@]}" "$@" -d "$body")
        JOB=$(jget "${SUB#* }" 'j.get("jobId", "")' 2>/dev/null || true)
}

# wait_job JOB: polls (token in AUTH) every 0.1 s, at most 8 s, until the
# job is no longer IN_PROGRESS; sets JOB_OUT to the last answer.
wait_job() {
        local i
        for i in $(seq 150); do
                JOB_OUT=$(req GET "/api/v2/wfm/async-jobs/$1" "${AUTH[@]}")
                POLLS=$((POLLS + 1))
                [[ "$JOB_OUT" == *'"IN_PROGRESS"'* ]] || return 0
                sleep 0.1
        done
}

echo "== schedule imports: jobs, idempotency, conflicts"
# Jobs last 4 s: long enough that the polls "at once" (each check starts
# python, about 1 s on a loaded machine) still see them in progress.
start_sim --job-duration-ms 4000 --job-duration-jitter-ms 500
TOK=$(token)
AUTH=(-H "Authorization: Bearer $TOK" -H 'Content-Type: application/json')
B1=$(import_body cal-1 FAIL a-1/08:00/16:00)
out=$(req POST /api/v2/wfm/schedules/import -d "$B1")
expect "import without token" "${out%% *}" 401
t0=$(date +%s%N)
submit "$B1" -H 'Idempotency-Key: imp-1'
expect "import: status" "${SUB%% *}" 202
expect "import: answer" "$(jget "${SUB#* }" 'j["status"]')" IN_PROGRESS
expect_true "import: jobId is job-<hex> ($JOB)" bash -c '[[ "$1" =~ ^job-[0-9a-f]{16,}$ ]]' _ "$JOB"
JOB1=$JOB
out=$(req GET "/api/v2/wfm/async-jobs/$JOB1" "${AUTH[@]}")
POLLS=$((POLLS + 1))
expect "poll at once: status" "${out%% *}" 200
expect "poll at once: IN_PROGRESS, createdAt, nothing else" \
        "$(jget "${out#* }" '[j["jobId"] == "'"$JOB1"'", j["status"], "createdAt" in j, "finishedAt" in j, "error" in j]')" \
        '[true, "IN_PROGRESS", true, false, false]'
submit "$B1" -H 'Idempotency-Key: imp-1'
expect "same Idempotency-Key: status" "${SUB%% *}" 202
expect "same Idempotency-Key: same jobId" "$JOB" "$JOB1"
wait_job "$JOB1"
ms=$((($(date +%s%N) - t0) / 1000000))
expect "job ends COMPLETED" "$(jget "${JOB_OUT#* }" '[j["status"], j["entriesImported"], "finishedAt" in j]')" \
        '["COMPLETED", 1, true]'
expect_true "job took --job-duration-ms 4000 + jitter <= 500 (seen after ${ms} ms)" \
        test "$ms" -ge 4000 -a "$ms" -lt 8000
out=$(req GET "/_sim/jobs/$JOB1")
expect "GET /_sim/jobs shows the request" \
        "$(jget "${out#* }" '[j["status"], j["entries"], j["idempotencyKey"], j["targetCalendarId"], j["conflictResolution"]]')" \
        '["COMPLETED", 1, "imp-1", "cal-1", "FAIL"]'
submit "$B1" -H 'Idempotency-Key: imp-1'
expect "same Idempotency-Key after completion: same jobId, its status" \
        "$JOB $(jget "${SUB#* }" 'j["status"]')" "$JOB1 COMPLETED"

# Shorter jobs from here (the jitter flag stays: 100-600 ms).
req POST /_sim/config -d '{"jobDurationMs":100}' >/dev/null
submit "$(import_body cal-1 FAIL a-1/12:00/20:00)"
wait_job "$JOB"
expect "overlapping shift with FAIL: FAILED, SCHEDULE_CONFLICT" \
        "$(jget "${JOB_OUT#* }" '[j["status"], j["error"]["code"], "entriesImported" in j]')" \
        '["FAILED", "SCHEDULE_CONFLICT", false]'
msg=$(jget "${JOB_OUT#* }" 'j["error"]["message"]')
for part in "agent a-1" "2026-01-05T12:00:00.000Z" "2026-01-05T08:00:00.000Z" "$JOB1"; do
        expect_true "conflict detail names '$part' ($msg)" grep -qF -- "$part" <<<"$msg"
done
submit "$(import_body cal-2 FAIL a-1/12:00/20:00)"
wait_job "$JOB"
expect "same shift in another calendar: COMPLETED" "$(jget "${JOB_OUT#* }" 'j["status"]')" COMPLETED
submit "$(import_body cal-1 FAIL a-2/08:00/16:00 a-1/16:00/18:00)"
wait_job "$JOB"
expect "another agent, and a touching shift: COMPLETED" \
        "$(jget "${JOB_OUT#* }" '[j["status"], j["entriesImported"]]')" '["COMPLETED", 2]'
submit "$(import_body cal-1 SKIP a-1/07:00/09:00 a-1/20:00/22:00)"
wait_job "$JOB"
expect "SKIP: COMPLETED, the conflicting entry left out" \
        "$(jget "${JOB_OUT#* }" '[j["status"], j["entriesImported"]]')" '["COMPLETED", 1]'
submit "$(import_body cal-1 OVERWRITE a-1/12:00/20:00)"
wait_job "$JOB"
expect "OVERWRITE: COMPLETED" "$(jget "${JOB_OUT#* }" '[j["status"], j["entriesImported"]]')" \
        '["COMPLETED", 1]'
submit "$(import_body cal-1 FAIL a-1/09:00/10:00)"
wait_job "$JOB"
expect "after OVERWRITE the old shift is gone: no conflict at 09:00" \
        "$(jget "${JOB_OUT#* }" 'j["status"]')" COMPLETED
submit "$(import_body cal-1 FAIL a-1/13:00/14:00)"
wait_job "$JOB"
expect "after OVERWRITE the new shift holds: conflict at 13:00" \
        "$(jget "${JOB_OUT#* }" '[j["status"], j["error"]["code"]]')" '["FAILED", "SCHEDULE_CONFLICT"]'
submit "$(import_body cal-3 FAIL a-1/08:00/16:00)"
wait_job "$JOB"
submit "$(import_body cal-3 AUTO_RESOLVE a-1/12:00/20:00)"
wait_job "$JOB"
expect "AUTO_RESOLVE (the seed's value): COMPLETED" \
        "$(jget "${JOB_OUT#* }" '[j["status"], j["entriesImported"]]')" '["COMPLETED", 1]'
submit "$(import_body cal-3 FAIL a-1/09:00/10:00)"
wait_job "$JOB"
expect "AUTO_RESOLVE resolves as OVERWRITE: the old shift is gone" \
        "$(jget "${JOB_OUT#* }" 'j["status"]')" COMPLETED
submit '{"targetCalendarId":"cal-3","validationMode":"STRICT","scheduleEntries":[{"agentId":"a-8","startDateTime":"2026-01-05T08:00:00Z","endDateTime":"2026-01-05T09:00:00Z"}]}'
wait_job "$JOB"
expect "import without conflictResolution: FAILED, naming it" \
        "$(jget "${JOB_OUT#* }" '[j["status"], j["error"]["code"], j["error"]["message"]]')" \
        '["FAILED", "VALIDATION_ERROR", "conflictResolution is missing"]'
submit '{"targetCalendarId":"cal-1","validationMode":"STRICT","conflictResolution":"FAIL","scheduleEntries":[{"agentId":"a-9","startDateTime":"2026-02-30T08:00:00Z","endDateTime":"2026-03-01T08:00:00Z"}]}'
expect "import with a bad date is accepted" "${SUB%% *}" 202
wait_job "$JOB"
expect "... and its job fails naming the entry" \
        "$(jget "${JOB_OUT#* }" '[j["status"], j["error"]["code"], j["error"]["message"].startswith("scheduleEntries[0]: startDateTime")]')" \
        '["FAILED", "VALIDATION_ERROR", true]'
SUBMITTED=13 # jobs created so far (2 repeats of imp-1 were deduplicated)
COMPLETED=9

out=$(req POST /api/v2/wfm/schedules/import "${AUTH[@]}" -d '{"targetCalendarId":')
expect "import with broken JSON" "${out%% *}" 400
out=$(req POST /api/v2/wfm/schedules/import "${AUTH[@]}" -d '[1]')
expect "import with a non-object body" "${out%% *}" 400
out=$(req POST /api/v2/wfm/schedules/import "${AUTH[@]}" -d '{"targetCalendarId":"c"}')
expect "import without scheduleEntries" "$out" \
        '400 {"error":"scheduleEntries must be an array","field":"scheduleEntries"}'
python3 -c 'import json; print(json.dumps({"targetCalendarId": "c", "scheduleEntries": [], "pad": "x" * (4 * 1024 * 1024)}))' >"$WORK/big-import.json"
out=$(req POST /api/v2/wfm/schedules/import "${AUTH[@]}" --data-binary @"$WORK/big-import.json")
expect "import body over 4 MiB" "${out%% *}" 413
out=$(req GET /api/v2/wfm/async-jobs/job-00000000000000000000000000000000 "${AUTH[@]}")
POLLS=$((POLLS + 1))
expect "poll of an unknown job" "${out%% *}" 404
out=$(req GET "/api/v2/wfm/async-jobs/$JOB1")
expect "poll without token" "${out%% *}" 401
out=$(req GET /_sim/jobs/job-nope)
expect "GET /_sim/jobs of an unknown job" "${out%% *}" 404

s=$(stats)
expect "stats: import and job counters" \
        "$(jget "$s" '[j["importsSubmitted"], j["importsDeduplicated"], j["jobsCompleted"], j["jobsFailed"], j["jobPolls"], j["webhooksSent"], j["webhooksFailed"]]')" \
        "[$SUBMITTED, 2, $COMPLETED, $((SUBMITTED - COMPLETED)), $POLLS, 0, 0]"
out=$(req GET /_sim/config)
expect "GET /_sim/config shows the job settings" \
        "$(jget "${out#* }" '[j["jobDurationMs"], j["jobDurationJitterMs"], j["jobFailRate"]]')" '[100, 500, 0.0]'
out=$(req POST /_sim/config -d '{"jobFailRate":1.5}')
expect "POST /_sim/config rejects a bad jobFailRate" "${out%% *}" 400
out=$(req POST /_sim/config -d '{"jobDurationMs":-1}')
expect "POST /_sim/config rejects a bad jobDurationMs" "${out%% *}" 400
req POST /_sim/reset >/dev/null
out=$(req GET "/api/v2/wfm/async-jobs/$JOB1" "${AUTH[@]}")
expect "after reset: jobs gone" "${out%% *}" 404
expect "after reset: job counters zero" \
        "$(jget "$(stats)" '[j["importsSubmitted"], j["jobsCompleted"], j["jobsFailed"], j["jobPolls"], j["jobsStored"]]')" \
        '[0, 0, 0, 1, 0]'
submit "$B1" -H 'Idempotency-Key: imp-1'
expect_true "after reset: the key is forgotten (new job)" test -n "$JOB" -a "$JOB" != "$JOB1"
stop_sim

echo "== --job-fail-rate and signed webhooks"
cat >"$WORK/hook.py" <<'PY'
# A webhook receiver: records each request as a JSON line; answers 500 on
# paths starting with /fail, 200 otherwise.
import http.server, json, sys
log, portfile = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode()
        rec = {"path": self.path, "body": body,
               "ts": self.headers.get("X-CXone-Timestamp"),
               "sig": self.headers.get("X-CXone-Signature"),
               "ctype": self.headers.get("Content-Type")}
        with open(log, "a") as f:
            f.write(json.dumps(rec) + "\n")
        self.send_response(500 if self.path.startswith("/fail") else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
PY
python3 "$WORK/hook.py" "$WORK/hooks.jsonl" "$WORK/hook.port" &
PIDS+=($!)
for i in $(seq 100); do [[ -s "$WORK/hook.port" ]] && break; sleep 0.05; done
HOOK_PORT=$(cat "$WORK/hook.port")
SECRET='wh-s3cret'

# hooks_at_least N: waits (at most 8 s) for N recorded webhook requests.
hooks_at_least() {
        local i
        for i in $(seq 80); do
                [[ -s "$WORK/hooks.jsonl" && $(wc -l <"$WORK/hooks.jsonl") -ge $1 ]] && return 0
                sleep 0.1
        done
        return 1
}

# verify_hook LINE JOB STATUS: prints "ok" if line LINE of the log is the
# event for JOB with STATUS, content type JSON, a fresh timestamp and a
# signature that verifies with the secret; else what is wrong.
verify_hook() {
        python3 - "$WORK/hooks.jsonl" "$1" "$2" "$3" "$SECRET" <<'PY'
import hashlib, hmac, json, sys, time
log, line, job, status, secret = sys.argv[1:]
r = json.loads(open(log).read().splitlines()[int(line) - 1])
body = json.loads(r["body"])
want = {"eventType": "WFM_SCHEDULE_IMPORT_COMPLETED", "jobId": job, "status": status}
mac = hmac.new(secret.encode(), f'{r["ts"]}.{r["body"]}'.encode(), hashlib.sha256).hexdigest()
problems = []
if body != want: problems.append(f"body {body} != {want}")
if r["path"] != "/webhooks/cxone": problems.append(f"path {r['path']}")
if not (r["ctype"] or "").startswith("application/json"): problems.append(f"content type {r['ctype']}")
if not (r["ts"] or "").isdigit() or abs(int(r["ts"]) - time.time()) > 60: problems.append(f"timestamp {r['ts']}")
if not hmac.compare_digest(r["sig"] or "", "sha256=" + mac): problems.append(f"signature {r['sig']}")
print("; ".join(problems) or "ok")
PY
}

start_sim --job-duration-ms 200 --job-fail-rate 1 \
        --webhook-url "http://127.0.0.1:$HOOK_PORT/webhooks/cxone" --webhook-secret "$SECRET"
expect_true "the webhook secret is not logged" bash -c '! grep -qF -- "$1" "$2"' _ "$SECRET" "$WORK/sim.err"
TOK=$(token)
AUTH=(-H "Authorization: Bearer $TOK")
submit "$(import_body cal-1 FAIL a-1/08:00/16:00)"
JOBF=$JOB
wait_job "$JOBF"
expect "--job-fail-rate 1: FAILED, simulated" \
        "$(jget "${JOB_OUT#* }" '[j["status"], j["error"]["code"], j["error"]["message"]]')" \
        '["FAILED", "SIMULATED_FAILURE", "simulated job failure"]'
expect_true "a webhook arrives for the failed job" hooks_at_least 1
expect "webhook 1: body, timestamp and HMAC signature" "$(verify_hook 1 "$JOBF" FAILED)" ok
req POST /_sim/config -d '{"jobFailRate":0}' >/dev/null
submit "$(import_body cal-1 FAIL a-1/08:00/16:00)"
JOBC=$JOB
# No polling this time: the timer finishes the job and sends the webhook.
expect_true "a webhook arrives for the completed job without any poll" hooks_at_least 2
expect "webhook 2: body, timestamp and HMAC signature" "$(verify_hook 2 "$JOBC" COMPLETED)" ok
s=$(stats)
expect "stats: webhooks sent, none failed" "$(jget "$s" '[j["webhooksSent"], j["webhooksFailed"]]')" '[2, 0]'
expect "stats: one job completed, one failed" "$(jget "$s" '[j["jobsCompleted"], j["jobsFailed"]]')" '[1, 1]'
stop_sim

# A receiver answering 500: three tries, then counted as failed.
start_sim --job-duration-ms 100 \
        --webhook-url "http://127.0.0.1:$HOOK_PORT/fail" --webhook-secret "$SECRET"
TOK=$(token)
AUTH=(-H "Authorization: Bearer $TOK")
submit "$(import_body cal-1 FAIL a-1/08:00/16:00)"
expect_true "a refused webhook is tried 3 times" hooks_at_least 5
for i in $(seq 50); do
        [[ "$(jget "$(stats)" 'j["webhooksFailed"]')" == 1 ]] && break
        sleep 0.1
done
sleep 0.5 # no fourth try
expect "refused webhook: tries" "$(grep -c '"/fail"' "$WORK/hooks.jsonl")" 3
expect "stats: refused webhook counted as failed" \
        "$(jget "$(stats)" '[j["webhooksSent"], j["webhooksFailed"]]')" '[0, 1]'
stop_sim

echo "checks: $CHECKS, failures: $FAILS"
[[ $FAILS -eq 0 ]]
