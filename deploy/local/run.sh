#!/usr/bin/env bash
# The first command. On a fresh Debian/Ubuntu machine: installs what is
# missing, builds, starts the local stack (dev-kafka, cxone-sim, two worker
# replicas), publishes config/samples/ (contacts.csv, schedules.json),
# follows the outcomes,
# prints the summary, stops the stack and exits 0.
#
#   deploy/local/run.sh                 run the demo and stop
#   deploy/local/run.sh --keep-running  leave the stack up (Ctrl-C stops it)
#   REPLICAS=3 deploy/local/run.sh      more worker replicas
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

keep=0
for arg in "$@"; do
  case "$arg" in
    --keep-running) keep=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
replicas=${REPLICAS:-2}

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
bin=$root/build/bin

run=$(mktemp -d "${TMPDIR:-/tmp}/cxone-local.XXXXXX")
pids=()
stop_stack() {
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}
trap stop_stack EXIT

first_line() { # FILE: waits (bounded) for the first line of FILE
  for _ in $(seq 1 150); do
    if [ -s "$1" ] && head -n 1 "$1" | grep -q .; then head -n 1 "$1"; return 0; fi
    sleep 0.2
  done
  echo "run.sh: nothing from $1; see $run" >&2
  return 1
}

# The simulator and the workers share demo credentials; nothing real.
export CXONE_CLIENT_ID=local-demo
export CXONE_CLIENT_SECRET=local-demo-secret

"$bin/cxonectl" dev-kafka --partitions 6 >"$run/kafka.out" 2>"$run/kafka.log" &
pids+=($!)
KAFKA_BOOTSTRAP_SERVERS=$(first_line "$run/kafka.out")
export KAFKA_BOOTSTRAP_SERVERS

"$bin/cxone-sim" --listen 127.0.0.1:0 --client-id "$CXONE_CLIENT_ID" \
  --client-secret "$CXONE_CLIENT_SECRET" --latency-ms 30 --latency-jitter-ms 20 \
  --unknown-contact-prefix unknown- --job-duration-ms 1500 >"$run/sim.out" 2>"$run/sim.log" &
pids+=($!)
line=$(first_line "$run/sim.out")
export CXONE_BASE_URL=${line#listening on }

for i in $(seq 1 "$replicas"); do
  "$bin/cxone-worker" -c config/cxone-worker.conf 2>"$run/worker-$i.log" &
  pids+=($!)
done

echo "local stack: Kafka $KAFKA_BOOTSTRAP_SERVERS | CXone simulator $CXONE_BASE_URL | $replicas workers | logs in $run"
echo "publishing config/samples/contacts.csv and waiting for every outcome..."
rc=0
"$bin/cxonectl" -c config/cxone-worker.conf contacts import config/samples/contacts.csv \
  --wait --timeout 120 || rc=$?
# 0: all succeeded; 3: all have outcomes, some rejected (the samples hold bad rows on purpose)
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
  echo "run.sh: the import did not complete (exit $rc); logs in $run" >&2
  exit 1
fi

echo "publishing config/samples/schedules.json and waiting for every outcome..."
rc=0
"$bin/cxonectl" -c config/cxone-worker.conf schedules import config/samples/schedules.json \
  --wait --timeout 120 || rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
  echo "run.sh: the schedule import did not complete (exit $rc); logs in $run" >&2
  exit 1
fi

if [ $keep -eq 1 ]; then
  cat <<MSG

The stack keeps running. In another shell:
  export KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS
  $bin/cxonectl results                        # every outcome so far
  $bin/cxonectl contacts import FILE.csv --wait
  curl $CXONE_BASE_URL/_sim/stats             # what the simulator saw
Ctrl-C stops it.
MSG
  trap 'exit 0' INT TERM
  while :; do sleep 1; done
fi
echo "stopping the local stack"
exit 0
