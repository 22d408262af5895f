# shellcheck shell=bash
# Shared by the benchmark scripts (run.sh, scale.sh, tls.sh, batch.sh),
# sourced after they set T (the work directory), KEEP (1 = keep it) and
# PIDS=() (the children to stop on exit); RUN names the current run's
# directory, whose *.log files die() shows.

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# untrack PID...: forget PIDs (they were stopped or reaped elsewhere).
untrack() {
  local p q keep
  for q in "$@"; do
    keep=()
    for p in "${PIDS[@]}"; do [ "$p" = "$q" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
  done
}

# stop_pids PID...: SIGTERM, wait up to 15 s each, then SIGKILL; reaps and
# untracks them. Only children of the script are passed here.
stop_pids() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  untrack "$@"
}

cleanup() {
  local rc=$?
  trap - INT TERM
  [ ${#PIDS[@]} -gt 0 ] && stop_pids "${PIDS[@]}"
  if [ $rc -ne 0 ] || [ "$KEEP" -eq 1 ]; then log "work directory kept: $T"; else rm -rf "$T"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_until SECONDS CMD...: CMD every 0.2 s until it succeeds; 1 on timeout.
wait_until() {
  local secs=$1; shift
  local end=$((SECONDS + secs))
  while [ $SECONDS -lt $end ]; do
    if "$@"; then return 0; fi
    sleep 0.2
  done
  return 1
}

RUN=
# die MESSAGE: says it, shows the end of the current run's logs, exits 1.
die() {
  log "FAILED: $*"
  local f
  for f in "$RUN"/*.log; do [ -f "$f" ] && { echo "---- $f" >&2; tail -n 15 "$f" >&2; }; done
  exit 1
}
