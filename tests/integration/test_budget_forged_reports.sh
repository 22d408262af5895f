#!/usr/bin/env bash
# Forged budget reports (docs/security.md, "Forged budget reports"): anyone
# who can write the budget topic writes, with tests/tools/kproduce, a trip
# with `until` an hour ahead (re-sent), a `busy:false` under a real
# replica's id, and the same with a made-up signature. Checked:
#   - with rate.peer_secret on both replicas (a from the environment, b from
#     a secret file): no replica pauses or changes its rate or share while
#     updates flow, every update gets one good outcome, and the forged
#     reports are counted in cxw_budget_reports_refused_total (unsigned,
#     bad_signature: exactly the forged ones, so the replicas' own signed
#     reports are taken);
#   - without a key: the forged hour-long trip pauses a replica at most
#     retry.max_delay_ms (2 s here; no Retry-After seen yet), and ten of them
#     within its window begin one trip.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=300
KEY="peer-key-$RANDOM-$RANDOM"

start_kafka 4
start_sim --log-level warn

now_ms() { date +%s%3N; }
# forged_trip ID [SIG]: one report line for kproduce (KEY<TAB>VALUE).
forged_trip() {
  local at until sig=""
  at=$(now_ms)
  until=$((at + 3600 * 1000))
  [ -n "${2:-}" ] && sig=",\"sig\":\"$2\""
  printf '%s\t{"worker":"%s","partitions":2,"total":4,"busy":true,"at":%s,"trip":{"class":"contacts","sent":%s,"from":%s,"until":%s,"anchored":true}%s}\n' \
    "$1" "$1" "$at" "$at" "$((at - 100))" "$until" "$sig"
}
forged_idle() {
  printf '%s\t{"worker":"%s","partitions":2,"total":4,"busy":false,"at":%s}\n' "$1" "$1" "$(now_ms)"
}
forge() { "$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.budget 2>>"$T/kproduce.log"; }
metric() { # metric ADMIN NAME_AND_LABELS
  curl -fsS --max-time 5 "$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'
}
admin_of() {
  wait_until 20 grep -q '"admin listener on' "$T/$1.log" || fail "no admin listener for $1"
  echo "http://127.0.0.1:$(grep -o 'admin listener on [^ ]* (port [0-9]*' "$T/$1.log" | grep -o '[0-9]*$')"
}

# ---- with a key -------------------------------------------------------------
printf '%s\n' "$KEY" >"$T/peer.key"
write_worker_conf "$T/w.conf" "rate = { rps = 100.0; burst = 10; };"
CXONE_WORKER_ADMIN_LISTEN=127.0.0.1:0 CXONE_PEER_SECRET=$KEY start_worker a "$T/w.conf"
wa=$LAST_PID
CXONE_WORKER_ADMIN_LISTEN=127.0.0.1:0 CXONE_PEER_SECRET_FILE=$T/peer.key start_worker b "$T/w.conf"
wb=$LAST_PID
A=$(admin_of a)
B=$(admin_of b)
for w in a b; do
  wait_until 60 grep -q "share 0.500 (" "$T/$w.log" || fail "replica $w did not get half of the partitions"
  wait_until 20 grep -q "reading budget reports from cxone.budget" "$T/$w.log" ||
    fail "replica $w does not read cxone.budget"
  grep -q "budget reports signed with rate.peer_secret" "$T/$w.log" || fail "replica $w does not sign"
done
ida="$(hostname)-$wb" # worker.id defaults to <hostname>-<pid>
rate0a=$(metric "$A" 'cxw_budget_rate_per_second{class="contacts"}')
rate0b=$(metric "$B" 'cxw_budget_rate_per_second{class="contacts"}')
log "rates before: a $rate0a/s, b $rate0b/s; forging reports of b ($ida) too"

gen_updates "$N" forged >"$T/updates.txt"
"$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.contact-updates \
  -H batch-id=forged <"$T/updates.txt" 2>>"$T/kproduce.log" || fail "kproduce"
# While the updates flow: forged trips (unsigned, and with a made-up
# signature) and "idle" reports under a real replica's id, for 3 s.
sig=$(printf '%064d' 0)
for i in $(seq 1 10); do
  { forged_trip mallory; forged_trip "$ida" "$sig"; forged_idle "$ida"; } | forge ||
    fail "kproduce to cxone.budget"
  for w in "$A" "$B"; do
    [ "$(metric "$w" 'cxw_budget_paused{class="contacts"}')" = 0 ] || fail "a replica paused for a forged trip"
  done
  sleep 0.3
done
end=$((SECONDS + 60))
while [ $SECONDS -lt $end ]; do
  "$CXW_BIN/cxonectl" topic dump cxone.results >"$T/res" 2>>"$T/ctl.log" || true
  [ "$(grep -c . "$T/res" || true)" -ge $N ] && break
  sleep 1
done
"$CXW_BIN/cxonectl" topic dump cxone.results >"$T/res" 2>>"$T/ctl.log"
"$CXW_BIN/cxonectl" topic dump cxone.contact-updates >"$T/src" 2>>"$T/ctl.log"
for w in a b; do
  adm=$A
  [ $w = b ] && adm=$B
  uns=$(metric "$adm" 'cxw_budget_reports_refused_total{reason="unsigned"}')
  bad=$(metric "$adm" 'cxw_budget_reports_refused_total{reason="bad_signature"}')
  rate=$(metric "$adm" 'cxw_budget_rate_per_second{class="contacts"}')
  log "replica $w: refused unsigned $uns, bad_signature $bad; contacts rate $rate/s"
  # exactly the forged ones (b drops those under its own id unread): the
  # other replica's signed reports are taken
  want_uns=20 want_bad=10
  [ $w = b ] && want_uns=10 want_bad=0
  [ "$uns" = $want_uns ] || fail "replica $w counted $uns unsigned reports, want $want_uns"
  [ "$bad" = $want_bad ] || fail "replica $w counted $bad badly signed reports, want $want_bad"
  ! grep -q "answered 429 to a peer" "$T/$w.log" || fail "replica $w paused for a forged trip"
done
[ "$(metric "$A" 'cxw_budget_rate_per_second{class="contacts"}')" = "$rate0a" ] || fail "a's rate changed"
[ "$(metric "$B" 'cxw_budget_rate_per_second{class="contacts"}')" = "$rate0b" ] || fail "b's rate changed"
! grep -q "$KEY" "$T/a.log" "$T/b.log" || fail "the key is in a log"
CXONE_PEER_SECRET=$KEY "$CXW_BIN/cxone-worker" -c "$T/w.conf" --print-config 2>/dev/null |
  grep -q '^rate.peer_secret = (set)' || fail "--print-config does not show the key as (set)"
! CXONE_PEER_SECRET=$KEY "$CXW_BIN/cxone-worker" -c "$T/w.conf" --print-config 2>&1 | grep -q "$KEY" ||
  fail "--print-config shows the key"
stop_pid "$wa" || fail "replica a did not stop cleanly"
stop_pid "$wb" || fail "replica b did not stop cleanly"
check outcomes --source "$T/src" --results "$T/res" --exactly-once --max-failed 0 \
  --max-rejected 0 || fail "not exactly one good outcome per update"

# ---- without a key ------------------------------------------------------------
CXONE_WORKER_ADMIN_LISTEN=127.0.0.1:0 start_worker c "$T/w.conf"
wc=$LAST_PID
C=$(admin_of c)
wait_until 60 grep -q "reading budget reports from cxone.budget" "$T/c.log" ||
  fail "replica c does not read cxone.budget"
grep -q "rate.peer_secret is not set" "$T/c.log" || fail "replica c does not say its reports are unsigned"
rate0=$(metric "$C" 'cxw_budget_rate_per_second{class="contacts"}')
for i in $(seq 1 10); do forged_trip mallory; done | forge || fail "kproduce to cxone.budget"
wait_until 10 grep -q "answered 429 to a peer" "$T/c.log" || fail "the forged trip did nothing at all"
line=$(grep "answered 429 to a peer" "$T/c.log")
log "$line"
[ "$(grep -c "answered 429 to a peer" "$T/c.log")" -eq 1 ] || fail "more than one pause logged for one window"
ms=$(grep -o 'paused for [0-9]* ms' <<<"$line" | head -n1 | grep -o '[0-9]*')
[ "$ms" -le 2000 ] || fail "a forged hour-long trip paused for $ms ms (bound 2000)"
sleep 2.5
[ "$(metric "$C" 'cxw_budget_paused{class="contacts"}')" = 0 ] || fail "still paused after the bound"
rate1=$(metric "$C" 'cxw_budget_rate_per_second{class="contacts"}')
log "without a key: paused $ms ms, contacts rate $rate0/s -> $rate1/s (one cut)"
python3 -c "import sys; a,b=map(float,sys.argv[1:]); sys.exit(0 if b >= 0.7*a - 1e-6 else 1)" "$rate0" "$rate1" ||
  fail "ten forged trips cut the rate more than once ($rate0 -> $rate1)"
stop_pid "$wc" || fail "replica c did not stop cleanly"
log "PASS"
