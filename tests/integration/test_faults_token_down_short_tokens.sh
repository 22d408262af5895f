#!/usr/bin/env bash
# Tokens living 2 s, and the token endpoint down for a while in the middle of
# a run (short: 10 s; CXW_LONG: 30 s) under load from two replicas: calls
# wait for a token instead of failing, no request fails or is lost, every
# request gets exactly one good outcome per source offset once the endpoint
# is back, and the tokens were really renewed on the way. (The floor between
# token fetches, token.min_refresh_interval_ms, is set below the tokens'
# 2 s life: at its default of 30 s a 2 s token would serve 2 s in 30.)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if [ -n "${CXW_LONG:-}" ]; then N=6000 DOWN=30; else N=2000 DOWN=10; fi
start_kafka 6
start_sim --token-ttl 2 --rate-limit 100 --burst 10 --latency-ms 5
write_worker_conf "$T/w.conf" 'rate = { rps = 100.0; burst = 10; }; http = { max_in_flight = 16; };
token = { min_refresh_interval_ms = 1000; };'
start_worker w1 "$T/w.conf"
W1=$LAST_PID
start_worker w2 "$T/w.conf"
W2=$LAST_PID

gen_updates $N td >"$T/in.tsv"
"$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.contact-updates -H batch-id=td \
  <"$T/in.tsv" 2>"$T/kproduce.log" || fail "producing the updates failed"

wait_until 60 applied_at_least 200 || fail "the replicas made no progress"
curl -fsS -X POST -d '{"tokenFailRate":1}' "$CXONE_BASE_URL/_sim/config" >/dev/null
log "token endpoint down for $DOWN s"
sleep 3 # the last tokens issued expire within 2 s
before=$(applied)
sleep $((DOWN - 3))
during=$(applied)
curl -fsS -X POST -d '{"tokenFailRate":0}' "$CXONE_BASE_URL/_sim/config" >/dev/null
log "token endpoint back; applied $before -> $during while it was down"
[ "$during" -lt $N ] || fail "all done before the outage; the test proves nothing"
[ $((during - before)) -le 50 ] || fail "$((during - before)) contacts applied with expired tokens?"

wait_until 240 outcomes_for $N td || fail "not every request got an outcome after the endpoint came back"
stop_pid "$W1" 30 || fail "w1 did not exit 0"
stop_pid "$W2" 30 || fail "w2 did not exit 0"

dump_topic cxone.contact-updates "$T/src.json"
dump_topic cxone.results "$T/res.json"
check outcomes --source "$T/src.json" --results "$T/res.json" --exactly-once --max-failed 0 --max-rejected 0
check contacts --source "$T/src.json" --results "$T/res.json" --sim "$CXONE_BASE_URL"
fetches=$(sim_get /_sim/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokenFetches"])')
log "token fetches: $fetches"
[ "$fetches" -ge 4 ] || fail "tokens living 2 s were fetched only $fetches times"
# shellcheck disable=SC2046
check nosecret "$T"/*.log "$T"/*.json --secret "$CXONE_CLIENT_SECRET" $(token_args)
log "PASS"
