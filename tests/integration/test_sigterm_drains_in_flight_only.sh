#!/usr/bin/env bash
# SIGTERM under load drains only what is in flight: two replicas work a
# backlog against a rate-limited CXone; one is stopped mid-run. It stops
# starting calls, finishes those in flight, writes their outcomes, commits
# the done prefix before it leaves the group and hands the rest over
# unstarted: it exits within a few seconds (not after its whole buffer), and
# once the other replica has taken over every request has exactly one
# outcome (no duplicate by source topic/partition/offset, none missing).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=1500
start_kafka 6
# The group's budget (50/s, 25/s a replica while both are busy) is below the
# simulator's limit: the backlog waits in the replicas' buffers, not in 429s.
start_sim --rate-limit 60 --burst 10 --latency-ms 80
# Cooperative rebalancing: the other replica keeps its partitions while it
# takes over the stopped one's. With the eager protocol it would give them
# up too, and librdkafka 2.0.2's mock broker (dev-kafka) refuses its commit
# during the rebalance (REBALANCE_IN_PROGRESS; a real broker takes it), so
# up to one auto-commit interval of the survivor's own work would repeat:
# that is not the stop's doing.
write_worker_conf "$T/w.conf" \
  'kafka = { consumer_properties = [ "session.timeout.ms=6000", "heartbeat.interval.ms=500",
     "partition.assignment.strategy=cooperative-sticky" ]; };
   rate = { rps = 50.0; burst = 5; }; http = { max_in_flight = 8; };'

gen_updates "$N" s >"$T/in.txt"
"$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.contact-updates \
  <"$T/in.txt" 2>>"$T/kproduce.log" || fail "kproduce"

applied() { [ "$(sim_get /_sim/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["contactsApplied"])')" -ge "$1" ]; }

start_worker w1 "$T/w.conf"
W1=$LAST_PID
start_worker w2 "$T/w.conf"
W2=$LAST_PID
both() { grep -q '"assigned [1-9]' "$T/w1.log" && grep -q '"assigned [1-9]' "$T/w2.log"; }
wait_until 60 both || fail "the replicas did not both get partitions"
wait_until 60 applied 300 || fail "no progress"

t0=$(date +%s%N)
stop_pid "$W1" 40 || fail "the first replica did not exit 0 on SIGTERM"
stop_ms=$((($(date +%s%N) - t0) / 1000000))
log "first replica stopped in $stop_ms ms"
applied "$N" && fail "everything was done before the SIGTERM; the test proves nothing"
buffered=$(grep -o 'stopping; [^"]*' "$T/w1.log" | head -1 || true)
log "w1 at SIGTERM: $buffered"

# Every source offset has an outcome (duplicates are counted after).
done_all() {
  dump_topic cxone.results "$T/res.json"
  python3 - "$T/res.json" "$N" <<'PY'
import json, sys
seen = set()
for line in open(sys.argv[1]):
    s = json.loads(json.loads(line)["value"])["source"]
    seen.add((s["topic"], s["partition"], s["offset"]))
sys.exit(0 if len(seen) >= int(sys.argv[2]) else 1)
PY
}
wait_until 180 done_all || fail "not every request got an outcome"
sleep 2 # late repeats would show up now
stop_pid "$W2" 30 || fail "the second replica did not exit 0"

dump_topic cxone.contact-updates "$T/src.json"
dump_topic cxone.results "$T/res.json"
sim_get /_sim/stats >"$T/stats.json"
python3 - "$T/stats.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"check: {s['contactsApplied']} PATCHes applied, {s['appliedDuplicates']} repeated")
PY
check outcomes --source "$T/src.json" --results "$T/res.json" --max-failed 0 --max-rejected 0 \
  --exactly-once
[ "$stop_ms" -lt 5000 ] || fail "the stopped replica took $stop_ms ms to exit (in flight only: expected < 5 s)"
grep -q "drain deadline reached" "$T/w1.log" && fail "the stop ran into its deadline"
true
log "PASS"
