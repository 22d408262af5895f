#!/usr/bin/env bash
# ctest-label: asan
# CXone down (every call answered 503, then every connection dropped) for a
# while in the middle of a run (short: 12 s; CXW_LONG: 30 s), two replicas
# under load with the default retry budget (10 attempts): the replicas count
# CXone as down (cxw_cxone_down 1), hold their calls and pause consumption,
# probe one call at a time, and resume when it answers again: none of the
# requests fails, none is lost, and the buffer stays within its limit.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if [ -n "${CXW_LONG:-}" ]; then N=6000 DOWN=30; else N=2000 DOWN=12; fi
LIMIT=200
start_kafka 6
start_sim --rate-limit 150 --burst 10 --latency-ms 5
for r in a b; do
  write_worker_conf "$T/$r.conf" "rate = { rps = 150.0; burst = 10; }; http = { max_in_flight = 16; };
limits = { max_buffered_messages = $LIMIT; };
worker = { shutdown_deadline_ms = 10000; log_level = \"info\"; admin_listen = \"127.0.0.1:0\"; };"
  start_worker "$r" "$T/$r.conf"
  eval "W_$r=$LAST_PID"
done
admin_url() { # the admin address a replica logged ("on 127.0.0.1:0 (port N)")
  local port
  port=$(grep -o 'admin listener on [^ ]* (port [0-9]*' "$T/$1.log" 2>/dev/null | grep -o '[0-9]*$' | head -n 1)
  [ -n "$port" ] && echo "127.0.0.1:$port"
}
wait_until 30 eval '[ -n "$(admin_url a)" ] && [ -n "$(admin_url b)" ]' || fail "no admin listener logged"
metric() { curl -fsS --max-time 5 "http://$(admin_url "$1")/metrics" | awk -v m="$2" '$1 == m {print $2}'; }

gen_updates $N cd >"$T/in.tsv"
"$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.contact-updates -H batch-id=cd \
  <"$T/in.tsv" 2>"$T/kproduce.log" || fail "producing the updates failed"

wait_until 60 applied_at_least 200 || fail "the replicas made no progress"
curl -fsS -X POST -d '{"errorRate":1}' "$CXONE_BASE_URL/_sim/config" >/dev/null
log "CXone answers 503 to every call"
down=0
wait_until 20 eval '[ "$(metric a cxw_cxone_down)" = 1 ] && [ "$(metric b cxw_cxone_down)" = 1 ]' \
  && down=1
[ $down -eq 1 ] || fail "the replicas did not count CXone as down"
sleep $((DOWN / 2))
curl -fsS -X POST -d '{"errorRate":0,"dropRate":1}' "$CXONE_BASE_URL/_sim/config" >/dev/null
log "CXone drops every connection"
sleep $((DOWN / 2))
for r in a b; do
  b=$(metric "$r" cxw_buffered_messages)
  p=$(metric "$r" cxw_paused_partitions)
  log "replica $r during the outage: buffered ${b%.*}, paused partitions ${p%.*}, down $(metric "$r" cxw_cxone_down)"
  [ "${b%.*}" -le $LIMIT ] || fail "replica $r buffered $b, over its limit of $LIMIT"
  [ "${p%.*}" -gt 0 ] || fail "replica $r kept consuming while CXone was down"
done
applied_down=$(applied)
curl -fsS -X POST -d '{"errorRate":0,"dropRate":0}' "$CXONE_BASE_URL/_sim/config" >/dev/null
log "CXone back; $applied_down applied so far"
[ "$applied_down" -lt $N ] || fail "all done before the outage; the test proves nothing"

wait_until 240 outcomes_for $N cd || fail "not every request got an outcome after CXone came back"
for r in a b; do
  [ "$(metric "$r" cxw_cxone_down)" = 0 ] || fail "replica $r still counts CXone as down"
  outages=$(metric "$r" cxw_cxone_outages_total)
  log "replica $r: outages ${outages%.*}"
done
grep -q "CXone answers again" "$T/a.log" "$T/b.log" || fail "no replica saw CXone come back"
stop_pid "$W_a" 30 || fail "replica a did not exit 0"
stop_pid "$W_b" 30 || fail "replica b did not exit 0"

dump_topic cxone.contact-updates "$T/src.json"
dump_topic cxone.results "$T/res.json"
check outcomes --source "$T/src.json" --results "$T/res.json" --max-failed 0 --max-rejected 0
check contacts --source "$T/src.json" --results "$T/res.json" --sim "$CXONE_BASE_URL"
log "PASS"
