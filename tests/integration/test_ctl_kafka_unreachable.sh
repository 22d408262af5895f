#!/usr/bin/env bash
# cxonectl against a Kafka it cannot use fails within the documented time
# with a message naming the bootstrap servers (docs/cxonectl.md): at once
# (10 s) when nothing answers at the start, with and without --wait, for
# contacts and schedules; and within message.timeout.ms (60 s unless
# configured, not librdkafka's 300 s) when the cluster stops answering in the
# middle of an import.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
CTL="$CXW_BIN/cxonectl"

# A loopback port nobody listens on (bound by python for a moment, then freed).
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DEAD=127.0.0.1:$PORT
python3 "$CXW_SRC/tests/integration/gen_contacts.py" 5 5 u >"$T/u.csv"

# run_bounded SECONDS NAME CMD...: runs CMD, killed after SECONDS; sets RC and
# TOOK (whole seconds).
run_bounded() {
  local secs=$1 name=$2; shift 2
  local start=$SECONDS
  RC=0
  timeout -s KILL "$secs" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null || RC=$?
  TOOK=$((SECONDS - start))
}

for args in "contacts import $T/u.csv" "contacts import $T/u.csv --wait --timeout 30" \
            "schedules import $CXW_SRC/config/samples/schedules.json --wait"; do
  name=unreach-$(echo "$args" | tr -c 'a-z' '_' | cut -c1-40)
  # shellcheck disable=SC2086
  KAFKA_BOOTSTRAP_SERVERS=$DEAD run_bounded 90 "$name" "$CTL" $args
  log "cxonectl $args: exit $RC after ${TOOK}s"
  [ $RC -eq 1 ] || fail "$args against $DEAD: exit $RC, expected 1 (137: still running after 90 s)"
  [ $TOOK -le 30 ] || fail "$args against $DEAD took ${TOOK}s, expected about 10"
  grep -q "Kafka at $DEAD .*did not answer" "$T/$name.err" ||
    fail "$args: no message naming $DEAD: $(grep -v '"level"' "$T/$name.err" | tail -n 5)"
done

# The cluster answers at the start, then stops answering (SIGSTOP): what
# was not delivered fails after message.timeout.ms, 60 s. The CSV comes
# through a FIFO in two parts, the second only after Kafka is stopped, so a
# fast machine cannot finish the import before the stop.
start_kafka 3
KPID=${PIDS[-1]}
python3 "$CXW_SRC/tests/integration/gen_contacts.py" 20000 1000 s >"$T/s.csv"
mkfifo "$T/s.fifo"
(
  head -n 3001 "$T/s.csv" # more than the reader's 64 KiB chunk
  for _ in $(seq 600); do [ -e "$T/stopped.flag" ] && break; sleep 0.1; done
  tail -n +3002 "$T/s.csv"
) >"$T/s.fifo" &
PIDS+=($!)
start=$SECONDS
"$CTL" contacts import "$T/s.fifo" --batch-id stopped >"$T/stopped.out" 2>"$T/stopped.err" &
IMP=$!
PIDS+=($IMP)
first_line "$T/stopped.out" 30 >/dev/null || fail "the import did not start"
kill -STOP "$KPID"
touch "$T/stopped.flag"
log "dev-kafka stopped $((SECONDS - start))s after the import began"
wait_until 100 bash -c "! kill -0 $IMP 2>/dev/null" || {
  kill -CONT "$KPID"
  fail "the import still runs $((SECONDS - start))s after Kafka stopped answering"
}
TOOK=$((SECONDS - start))
kill -CONT "$KPID"
RC=0
wait "$IMP" || RC=$?
log "import with Kafka stopped: exit $RC after ${TOOK}s"
grep -v '"level"' "$T/stopped.err" | tail -n 3 >&2
[ $RC -eq 1 ] || fail "exit $RC, expected 1"
[ $TOOK -le 90 ] || fail "took ${TOOK}s, expected about 60 (message.timeout.ms)"
grep -q "Kafka at $KAFKA_BOOTSTRAP_SERVERS .*did not acknowledge [0-9]* messages within message.timeout.ms (60000 ms)" \
  "$T/stopped.err" || fail "no message naming the servers and the timeout"
grep -q "NOT DELIVERED" "$T/stopped.err" || fail "the summary does not say what was not delivered"
log "PASS"
