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
#   BUILD_DIR=DIR deploy/local/run.sh   build in DIR instead of build/
set -euo pipefail
cd "$(dirname "$0")/../.."

keep=0
for arg in "$@"; do
  case "$arg" in
    --keep-running) keep=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
replicas=${REPLICAS:-2}

# Says what it does from the first second: each step on stderr before it
# starts (the packages, the build, each process of the stack).
say() { echo "run.sh: $*" >&2; }

run=$(mktemp -d "${TMPDIR:-/tmp}/cxone-local.XXXXXX")
say "checking the Debian packages of the build (scripts/install-deps.sh)"
scripts/install-deps.sh
build=${BUILD_DIR:-build}
jobs=$(nproc 2>/dev/null || echo 2)
say "building in $build/ with $jobs jobs (the first build takes a minute or two; log in $run/build.log)"
t0=$SECONDS
# progress: passes cmake's output to the log and shows, at most every 2 s,
# what it is at: the configure step ("-- Detecting C compiler ABI info") or
# the build's percentage ("[ 45%] Building C object ...").
progress() {
  local line last=$SECONDS
  while IFS= read -r line; do
    printf '%s\n' "$line" >>"$run/build.log"
    [ $((SECONDS - last)) -ge 2 ] || continue
    if [[ "$line" =~ ^\[\ *([0-9]+)%\]\ (.*)$ ]]; then
      say "building: ${BASH_REMATCH[1]}% (${BASH_REMATCH[2]})"
      last=$SECONDS
    elif [[ "$line" =~ ^--\ (.*)$ ]]; then
      say "configuring: ${BASH_REMATCH[1]}"
      last=$SECONDS
    fi
  done
}
build_failed() {
  tail -n 30 "$run/build.log" >&2
  say "the build failed; the whole log is $run/build.log"
  exit 1
}
# Configured once; later builds re-run cmake by themselves when needed.
if [ ! -f "$build/CMakeCache.txt" ]; then
  say "configuring with cmake"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo 2>&1 | progress || build_failed
fi
# (pipefail: the pipeline fails when the build does)
cmake --build "$build" -j"$jobs" 2>&1 | progress || build_failed
say "built in $((SECONDS - t0)) s"
bin=$(cd "$build" && pwd)/bin

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

say "starting dev-kafka (a Kafka in one process, on loopback)"
"$bin/cxonectl" dev-kafka --partitions 6 >"$run/kafka.out" 2>"$run/kafka.log" &
pids+=($!)
KAFKA_BOOTSTRAP_SERVERS=$(first_line "$run/kafka.out")
export KAFKA_BOOTSTRAP_SERVERS

say "starting cxone-sim (the CXone simulator)"
"$bin/cxone-sim" --listen 127.0.0.1:0 --client-id "$CXONE_CLIENT_ID" \
  --client-secret "$CXONE_CLIENT_SECRET" --latency-ms 30 --latency-jitter-ms 20 \
  --unknown-contact-prefix unknown- --job-duration-ms 1500 >"$run/sim.out" 2>"$run/sim.log" &
pids+=($!)
line=$(first_line "$run/sim.out")
export CXONE_BASE_URL=${line#listening on }

say "starting $replicas cxone-worker replicas (they join the group in a few seconds)"
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
