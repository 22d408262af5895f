#!/usr/bin/env bash
# Scaling under load with the default cooperative-sticky assignment: 2
# replicas work through a backlog, 2 more join (scale-out 2 -> 4), then those
# 2 are stopped with SIGTERM (scale-in 4 -> 2) while work remains.
#
# Asserts: the replicas that stay are never left without partitions (an
# incremental rebalance revokes only what moves) and keep applying updates
# while the join is under way; every request has exactly one outcome when
# deduplicated by source offset, none failed or rejected; the duplicates
# (outcomes beyond one per source offset, and PATCHes the simulator applied
# twice) are reported and bounded by the in-flight window of the replicas
# that gave partitions away (2 x max_in_flight per scale event); the
# stopped replicas exit 0.
#
# On dev-kafka (librdkafka 2.0.2's mock) every join waits the joining
# member's session.timeout.ms - 1 s (5 s here) and an incremental
# rebalance takes two such rounds, so each scale event takes ~10 s.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=4000
INFLIGHT=4
start_kafka 8
start_sim --latency-ms 100
# A bounded buffer, so that a SIGTERM's drain (which finishes what is
# buffered, not only what is in flight) ends well within its deadline.
write_worker_conf "$T/w.conf" "rate = { rps = 0.0; }; http = { max_in_flight = $INFLIGHT; };
limits = { max_buffered_messages = 100; };"

python3 "$CXW_SRC/tests/integration/gen_contacts.py" "$N" "$N" s >"$T/s.csv"
"$CXW_BIN/cxonectl" contacts import "$T/s.csv" --batch-id scale >"$T/import.out" 2>"$T/import.log" ||
  fail "import failed"

applied_n() { sim_get /_sim/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["contactsApplied"])'; }
applied() { [ "$(applied_n)" -ge "$1" ]; }
has_parts() { grep -qE '"assigned [0-9]+ partitions \([1-9][0-9]* now' "$T/$1.log"; }
# the number of partitions a replica holds after its last assign/revoke line
holds() {
  grep -oE '"(assigned [0-9]+ partitions \(|revoked [0-9]+ partitions \()[0-9]+' "$T/$1.log" |
    tail -n 1 | grep -oE '[0-9]+$'
}

start_worker w1 "$T/w.conf"
W1=$LAST_PID
start_worker w2 "$T/w.conf"
W2=$LAST_PID
grep -q 'group assignment cooperative-sticky (incremental' "$T/w1.log" ||
  wait_until 10 grep -q 'group assignment cooperative-sticky (incremental' "$T/w1.log" ||
  fail "the default assignment is not cooperative-sticky"
wait_until 60 applied 300 || fail "no progress with 2 replicas"

# ---- scale-out 2 -> 4
a0=$(applied_n)
t0=$SECONDS
start_worker w3 "$T/w.conf"
W3=$LAST_PID
start_worker w4 "$T/w.conf"
W4=$LAST_PID
wait_until 60 has_parts w3 || fail "w3 got no partitions"
wait_until 60 has_parts w4 || fail "w4 got no partitions"
a1=$(applied_n)
log "scale-out 2 -> 4: every replica consuming after $((SECONDS - t0)) s; $((a1 - a0)) updates applied meanwhile"
[ $((a1 - a0)) -gt 0 ] || fail "the replicas already there stopped while the others joined"
for w in w1 w2; do
  grep -qE '"revoked [0-9]+ partitions \(0 remain' "$T/$w.log" &&
    fail "$w lost every partition during the scale-out (an eager rebalance?)"
done

wait_until 60 applied $((a1 + 400)) || fail "no progress with 4 replicas"

# ---- scale-in 4 -> 2: SIGTERM both at once
a2=$(applied_n)
t1=$SECONDS
kill -TERM "$W3" "$W4"
stop_pid "$W3" 30 || fail "w3 did not exit 0 on SIGTERM"
stop_pid "$W4" 30 || fail "w4 did not exit 0 on SIGTERM"
t2=$SECONDS
both_hold_all() {
  local a b
  a=$(holds w1) b=$(holds w2)
  [ $((${a:-0} + ${b:-0})) -eq 16 ]
}
wait_until 60 both_hold_all || fail "w1 and w2 did not take every partition back"
log "scale-in 4 -> 2: replicas stopped in $((t2 - t1)) s, every partition consumed again after $((SECONDS - t1)) s"
applied "$N" && fail "everything was done before the scale-in; the test proves nothing"
log "$((N - a2)) updates left at the scale-in"

done_all() {
  dump_topic cxone.results "$T/res.json"
  [ "$(wc -l <"$T/res.json")" -ge "$N" ]
}
wait_until 120 done_all || fail "not every request got an outcome"
stop_pid "$W1" 30 || fail "w1 did not exit 0"
stop_pid "$W2" 30 || fail "w2 did not exit 0"

dump_topic cxone.contact-updates "$T/src.json"
dump_topic cxone.results "$T/res.json"
# The in-flight window of the replicas giving partitions away, 2 per scale
# event; plus, on the mock only, what one leaving replica did since its last
# auto-commit (1 s) and during the ~2 s its drain may outlast the other's
# leave: the mock refuses every commit once a leave has started a rebalance
# (REBALANCE_IN_PROGRESS, then ILLEGAL_GENERATION), where a real broker
# accepts commits of the current generation until the new one is formed.
MAXDUP=$((2 * 2 * INFLIGHT + 3 * 40))
check outcomes --source "$T/src.json" --results "$T/res.json" --max-failed 0 --max-rejected 0 \
  --max-duplicates "$MAXDUP"
check contacts --source "$T/src.json" --results "$T/res.json" --sim "$CXONE_BASE_URL"
for w in w1 w2 w3 w4; do
  n=$(grep -o 'stopped: consumed [0-9]*' "$T/$w.log" | grep -o '[0-9]*$' || true)
  f=$(grep -c 'revoked partitions failed' "$T/$w.log" || true)
  c=$(grep -c 'committed [0-9]* revoked partitions' "$T/$w.log" || true)
  log "$w consumed ${n:-0}; commits on revoke: $c made, $f failed"
  [ "${n:-0}" -gt 0 ] || fail "$w did no work"
done
sim_get /_sim/stats >"$T/stats.json"
python3 - "$T/stats.json" "$N" "$MAXDUP" <<'PY' || fail "simulator stats"
import json, sys
s = json.load(open(sys.argv[1]))
n, maxdup = int(sys.argv[2]), int(sys.argv[3])
print(f"check: {s['contactsApplied']} PATCHes applied for {n} requests, "
      f"{s['appliedDuplicates']} applied twice (bound {maxdup}: the in-flight windows "
      f"of 2 scale events + the mock's refused commits at the concurrent leave)")
assert s["contactsApplied"] >= n
assert s["appliedDuplicates"] <= maxdup, "too many updates applied twice"
PY
log "PASS"
