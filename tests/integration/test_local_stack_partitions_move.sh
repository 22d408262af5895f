#!/usr/bin/env bash
# The shipped config/cxone-worker.conf, as deploy/local/run.sh uses it
# against dev-kafka: two replicas split the partitions, and when one stops
# (SIGTERM, or kill -9) the other has them all within seconds, not after the
# mock's rebalance delay of a 45 s session timeout (docs/cxonectl.md,
# dev-kafka).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
CONF="$CXW_SRC/config/cxone-worker.conf"

start_kafka 6
start_sim
# 6 partitions of each of the two request topics
ALL=12
owns() { # NAME N: the last assignment line of NAME's log says N partitions now
  grep -o '"assigned [0-9]* partitions ([0-9]* now' "$T/$1.log" 2>/dev/null | tail -n 1 |
    grep -q "($2 now"
}
split() { ! owns w1 0 && ! owns w2 0 && owns_any w1 && owns_any w2; }
owns_any() { grep -q '"assigned [0-9]* partitions' "$T/$1.log"; }

start_worker w1 "$CONF"
W1=$LAST_PID
start_worker w2 "$CONF"
W2=$LAST_PID
wait_until 60 split || fail "the two replicas did not split the partitions"
log "the replicas split the partitions"

t0=$SECONDS
stop_pid "$W2" 30 || fail "w2 did not exit 0 on SIGTERM"
wait_until 20 owns w1 $ALL || fail "w1 does not have all $ALL partitions 20 s after w2 stopped"
log "after SIGTERM: w1 has all $ALL partitions $((SECONDS - t0)) s after w2 was told to stop"

start_worker w3 "$CONF"
W3=$LAST_PID
wait_until 60 owns_any w3 || fail "w3 got no partitions"
t0=$SECONDS
kill -KILL "$W3"
wait_until 25 owns w1 $ALL || fail "w1 does not have all $ALL partitions 25 s after w3 was killed"
log "after kill -9: w1 has all $ALL partitions $((SECONDS - t0)) s later"
stop_pid "$W1" 30 || fail "w1 did not exit 0"
log "PASS"
