#!/usr/bin/env bash
# kafka.exactly_once under SIGKILL: three replicas, a random one killed every
# 3 s (5 kills) and started again under the same worker.id, under load;
# then the same run with exactly-once off. Each run: no request lost, none
# failed, the simulator holds the last value of every contact; printed side
# by side: the duplicate outcomes a reader sees and the calls CXone saw
# twice (appliedDuplicates).
#
# What dev-kafka can and cannot show: librdkafka 2.0.2's mock cluster takes
# the transaction protocol (init, begin, send offsets, commit, abort) but
# serves read_committed like read_uncommitted: it neither writes transaction
# markers nor hides aborted or open transactions (checked: a record of an
# aborted transaction and one of an open transaction are both read with
# isolation.level=read_committed). So a killed replica's open transaction
# stays visible here, and the test cannot demand 0 duplicates; what it
# shows is that the transactions carry the group's work (nothing lost, the
# last value of every contact, duplicates within the at-least-once window),
# and how many duplicates and repeated calls each mode leaves. On a real
# broker (its bootstrap servers in CXW_EOS_BROKERS) the exactly-once run
# demands 0 duplicates.
# Short form: 6,000 updates a run at 300/s; CXW_LONG=1: 20,000 at 600/s.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if [ -n "${CXW_LONG:-}" ]; then N=20000 RATE=600; else N=6000 RATE=300; fi
KILLS=5
INFLIGHT=16
TXN_MS=100

if [ -n "${CXW_EOS_BROKERS:-}" ]; then
  KAFKA_BOOTSTRAP_SERVERS=$CXW_EOS_BROKERS
  export KAFKA_BOOTSTRAP_SERVERS
  REAL=1
else
  start_kafka 12
  REAL=
fi
start_sim --rate-limit $RATE --burst 20 --latency-ms 5

# run_case NAME EOS: one run on topics and a group of its own.
run_case() {
  local name=$1 eos=$2 kills=0 r
  local src="eos-$name.updates" res="eos-$name.results"
  declare -A WPID
  curl -fsS -X POST "$CXONE_BASE_URL/_sim/reset" >/dev/null || fail "sim reset"
  write_worker_conf "$T/$name.conf" "$(
    cat <<CONF
kafka = { group_id = "eos-$name"; exactly_once = $eos; transaction_interval_ms = $TXN_MS;
  consumer_properties = [ "session.timeout.ms=6000", "heartbeat.interval.ms=500" ];
  topics = { contact_updates = "$src"; schedule_imports = "eos-$name.schedules";
             results = "$res"; audit = "eos-$name.audit"; dlq = "eos-$name.dlq";
             budget = "eos-$name.budget"; }; };
rate = { rps = $RATE.0; burst = 20; };
http = { max_in_flight = $INFLIGHT; };
CONF
  )"
  for r in a b c; do
    CXONE_WORKER_ID="$name-$r" start_worker "$name-$r" "$T/$name.conf"
    WPID[$r]=$LAST_PID
  done
  gen_updates $N "$name" >"$T/$name.in.tsv"
  "$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t "$src" -H "batch-id=$name" \
    <"$T/$name.in.tsv" 2>"$T/$name.kproduce.log" || fail "producing the updates failed"
  wait_until 60 applied_at_least 200 || fail "$name: the replicas made no progress"
  while [ $kills -lt $KILLS ]; do
    sleep 3
    names=(a b c)
    r=${names[$((RANDOM % 3))]}
    kill -KILL "${WPID[$r]}" 2>/dev/null || true
    wait "${WPID[$r]}" 2>/dev/null || true
    kills=$((kills + 1))
    mv "$T/$name-$r.log" "$T/$name-$r.$kills.log"
    CXONE_WORKER_ID="$name-$r" start_worker "$name-$r" "$T/$name.conf"
    WPID[$r]=$LAST_PID
  done
  [ "$(applied)" -lt $N ] || fail "$name: all done before the kills ended; the run proves nothing"
  wait_until 300 outcomes_in "$res" $N "$name" || fail "$name: not every request got an outcome"
  for r in a b c; do stop_pid "${WPID[$r]}" 30 || fail "$name: replica $r did not exit 0"; done
  dump_topic "$src" "$T/$name.src.json"
  dump_topic "$res" "$T/$name.res.json"
  DUPS=$(python3 - "$T/$name.res.json" <<'PY'
import collections, json, sys
c = collections.Counter()
for line in open(sys.argv[1]):
    v = json.loads(json.loads(line)["value"])
    c[(v["source"]["partition"], v["source"]["offset"])] += 1
print(sum(n - 1 for n in c.values()))
PY
)
  TWICE=$(sim_get /_sim/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["appliedDuplicates"])')
  check contacts --source "$T/$name.src.json" --results "$T/$name.res.json" --sim "$CXONE_BASE_URL"
  log "$name: $kills kills: $DUPS duplicate outcomes, CXone saw $TWICE calls twice"
}

# outcomes_in TOPIC N BATCH: TOPIC holds an outcome for N distinct source
# offsets of BATCH (dumped to $T/res.json).
outcomes_in() {
  dump_topic "$1" "$T/res.json"
  python3 - "$T/res.json" "$2" "$3" <<'PY'
import json, sys
srcs = set()
for line in open(sys.argv[1]):
    v = json.loads(json.loads(line)["value"])
    if v.get("batchId") == sys.argv[3]:
        srcs.add((v["source"]["partition"], v["source"]["offset"]))
sys.exit(0 if len(srcs) >= int(sys.argv[2]) else 1)
PY
}

run_case on true
EOS_DUPS=$DUPS EOS_TWICE=$TWICE
grep -q "exactly-once: transactional producer ready" "$T"/on-a*.log ||
  fail "the exactly-once run did not use transactions"
run_case off false
OFF_DUPS=$DUPS OFF_TWICE=$TWICE

log "duplicate outcomes: exactly-once $EOS_DUPS, without $OFF_DUPS;" \
  "calls CXone saw twice: exactly-once $EOS_TWICE, without $OFF_TWICE"
# On a broker: none. On dev-kafka a killed replica's open transaction stays
# visible (per kill, what it released within a transaction interval or two),
# and the mock refuses the consumer commits that carry the transactions'
# offsets while the group rebalances (a member then loses its assignment and
# the next owner repeats the work since the last commit that held): measured
# 130, 523 and 1,286 in three runs. The bound is the at-least-once window of
# test_faults_kill_random_replica: per kill, the calls in flight plus one
# second of work at the group's rate.
if [ -n "$REAL" ]; then bound=0; else bound=$((KILLS * (INFLIGHT + RATE))); fi
log "exactly-once duplicate bound: $bound"
check outcomes --source "$T/on.src.json" --results "$T/on.res.json" --max-failed 0 --max-rejected 0 \
  --max-duplicates "$bound"
# Without exactly-once the duplicates are only printed, for comparison: their
# bound is test_faults_kill_random_replica's.
check outcomes --source "$T/off.src.json" --results "$T/off.res.json" --max-failed 0 --max-rejected 0
log "PASS"
