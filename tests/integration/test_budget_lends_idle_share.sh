#!/usr/bin/env bash
# Budget lending: two replicas share a group budget equal to the tenant's
# limit (rate.rps = the sim's --rate-limit). All 800 updates go to ONE
# partition, so one replica has all the work and the other is idle.
#   lending on (kafka.topics.budget): the busy replica borrows the idle one's
#     share: first to last outcome < 1.4 x ideal (ideal = updates / limit),
#     429s <= 1 % of the requests;
#   lending off (kafka.topics.budget = ""): it keeps its static half, and the
#     same run takes > 1.7 x ideal, so the test can tell the two apart.
# Each phase has its own topics and group on one dev-kafka and one sim.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=800
RATE=100
PARTS=12

# dev-kafka with the phase-2 topics too (12 partitions each); the default
# topics, cxone.budget included, come from the default config.
P2=p2
"$CXW_BIN/cxonectl" dev-kafka --partitions $PARTS \
  --topics "$P2.contact-updates,$P2.schedule-imports,$P2.results,$P2.audit,$P2.dlq" \
  >"$T/kafka.out" 2>"$T/kafka.log" &
PIDS+=($!)
KAFKA_BOOTSTRAP_SERVERS=$(first_line "$T/kafka.out" 30) || fail "dev-kafka did not start"
export KAFKA_BOOTSTRAP_SERVERS
grep -q "created topic cxone.budget" "$T/kafka.log" || fail "dev-kafka did not create cxone.budget"
start_sim --rate-limit $RATE --burst 10 --latency-ms 20 --log-level warn

gen_updates "$N" lend >"$T/updates.txt"

# assigned LOG...: every replica holds partitions and together they hold all
# (the total they log).
assigned() {
  python3 - "$@" <<'PY'
import re, sys
rx = re.compile(r"share [0-9.]+ \((\d+) of (\d+) partitions\)")
mine, total = 0, 0
for path in sys.argv[1:]:
    last = None
    for line in open(path, errors="replace"):
        m = rx.search(line)
        if m:
            last = m
    if not last or int(last.group(1)) == 0:
        sys.exit(1)
    mine += int(last.group(1))
    total = max(total, int(last.group(2)))
sys.exit(0 if total > 0 and mine == total else 1)
PY
}

# outcomes FILE: how many outcomes FILE holds.
count() { if [ -f "$1" ]; then grep -c . "$1" || true; else echo 0; fi; }

# phase NAME PREFIX BUDGET_TOPIC: runs the load, leaves $T/NAME.{src,res,stats}.
phase() {
  local name=$1 prefix=$2 budget=$3
  local topics="contact_updates = \"$prefix.contact-updates\"; schedule_imports = \"$prefix.schedule-imports\"; results = \"$prefix.results\"; audit = \"$prefix.audit\"; dlq = \"$prefix.dlq\"; budget = \"$budget\";"
  write_worker_conf "$T/$name.conf" "
kafka = {
  group_id = \"lend-$name\";
  consumer_properties = [ \"session.timeout.ms=6000\", \"heartbeat.interval.ms=500\" ];
  topics = { $topics };
};
rate = { rps = $RATE.0; burst = 10; };"
  start_worker "$name-a" "$T/$name.conf"
  local wa=$LAST_PID
  start_worker "$name-b" "$T/$name.conf"
  local wb=$LAST_PID
  wait_until 60 assigned "$T/$name-a.log" "$T/$name-b.log" ||
    fail "$name: the two replicas did not split the partitions"
  if [ -n "$budget" ]; then
    wait_until 20 grep -q "reading budget reports from $budget" "$T/$name-a.log" ||
      fail "$name: replica a does not read $budget"
    wait_until 20 grep -q "reading budget reports from $budget" "$T/$name-b.log" ||
      fail "$name: replica b does not read $budget"
    sleep 1 # a few report intervals: each has heard the other
  fi
  sim_get /_sim/stats >"$T/$name.stats0"
  log "$name: producing $N updates to partition 0 of $prefix.contact-updates"
  "$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t "$prefix.contact-updates" -p 0 \
    -H batch-id="$name" <"$T/updates.txt" 2>>"$T/kproduce.log" || fail "kproduce"
  local end=$((SECONDS + 60))
  while [ $SECONDS -lt $end ]; do
    "$CXW_BIN/cxonectl" topic dump "$prefix.results" >"$T/$name.res" 2>>"$T/ctl.log" || true
    [ "$(count "$T/$name.res")" -ge $N ] && break
    sleep 1
  done
  sleep 1 # anything beyond N would be a duplicate
  "$CXW_BIN/cxonectl" topic dump "$prefix.results" >"$T/$name.res" 2>>"$T/ctl.log"
  "$CXW_BIN/cxonectl" topic dump "$prefix.contact-updates" >"$T/$name.src" 2>>"$T/ctl.log"
  sim_get /_sim/stats >"$T/$name.stats1"
  stop_pid "$wa" || fail "$name: replica a did not stop cleanly"
  stop_pid "$wb" || fail "$name: replica b did not stop cleanly"
  log "$name: $(count "$T/$name.res") outcomes"
  check outcomes --source "$T/$name.src" --results "$T/$name.res" --exactly-once \
    --max-failed 0 --max-rejected 0 || fail "$name: not exactly one good outcome per update"
}

# measure NAME: prints "elapsed ratio429" (elapsed s from first to last
# outcome; 429s / API requests of the phase).
measure() {
  python3 - "$T/$1.res" "$T/$1.stats0" "$T/$1.stats1" <<'PY'
import datetime, json, sys
ts = []
for line in open(sys.argv[1]):
    if line.strip():
        o = json.loads(json.loads(line)["value"])
        ts.append(datetime.datetime.fromisoformat(o["finishedAt"].replace("Z", "+00:00")))
s0, s1 = (json.load(open(p)) for p in sys.argv[2:4])
api = sum(s1["requests"].values()) - sum(s0["requests"].values())
r429 = s1["rateLimited"] - s0["rateLimited"]
print("%.3f %.5f %d %d" % ((max(ts) - min(ts)).total_seconds(), r429 / max(api, 1), r429, api))
PY
}

IDEAL=$(python3 -c "print($N / $RATE)")

phase lend cxone cxone.budget
read -r el1 r1 n429_1 api1 < <(measure lend)
log "lending on: elapsed $el1 s (ideal $IDEAL s), 429s $n429_1 of $api1 requests"
grep -h "lent" "$T"/lend-*.log | head -n 3 >&2 || true

phase static $P2 ""
read -r el2 r2 n429_2 api2 < <(measure static)
log "lending off: elapsed $el2 s (ideal $IDEAL s), 429s $n429_2 of $api2 requests"

python3 - "$el1" "$r1" "$el2" "$IDEAL" <<'PY' || fail "lending did not make the difference"
import sys
el1, r1, el2, ideal = map(float, sys.argv[1:])
ok = True
def check(what, cond):
    global ok
    print(("ok: " if cond else "NOT: ") + what)
    ok &= cond
check(f"lending on: {el1:.2f} s < 1.4 x ideal {ideal:.1f} s", el1 < 1.4 * ideal)
check(f"lending on: 429s {100 * r1:.2f} % <= 1 %", r1 <= 0.01)
check(f"lending off: {el2:.2f} s > 1.7 x ideal {ideal:.1f} s", el2 > 1.7 * ideal)
sys.exit(0 if ok else 1)
PY
grep -q "partitions of idle peers lent" "$T/lend-a.log" "$T/lend-b.log" ||
  fail "no replica logged a lent share"
! grep -q "partitions of idle peers lent" "$T/static-a.log" "$T/static-b.log" ||
  fail "a replica lent without the budget topic"
log "PASS"
