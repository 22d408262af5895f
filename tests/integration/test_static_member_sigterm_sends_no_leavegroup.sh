#!/usr/bin/env bash
# A static member (kafka.static_membership) stopped with SIGTERM sends no
# LeaveGroup, so a real broker keeps its partitions for it until
# session.timeout.ms instead of rebalancing (docs/operations.md, "Static
# membership"); a dynamic member does leave. Read from librdkafka's own
# cgrp debug lines in the worker's log. (dev-kafka cannot show the broker's
# side: its mock ignores group.instance.id.)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start_kafka 4
start_sim --log-level warn
for mode in static dynamic; do
  st=false
  [ $mode = static ] && st=true
  write_worker_conf "$T/$mode.conf" "kafka = { group_id = \"g-$mode\"; static_membership = $st;
  consumer_properties = [ \"session.timeout.ms=6000\", \"heartbeat.interval.ms=500\", \"debug=cgrp\" ]; };
worker = { id = \"w-$mode\"; shutdown_deadline_ms = 10000; log_level = \"debug\"; };"
  start_worker $mode "$T/$mode.conf"
  pid=$LAST_PID
  wait_until 60 grep -q "share 1.000 (" "$T/$mode.log" || fail "$mode: no partitions assigned"
  stop_pid "$pid" || fail "$mode: did not stop cleanly"
  grep -q "JoinGroup" "$T/$mode.log" || fail "$mode: no cgrp debug lines in the log"
  n=$(grep -c "LeaveGroup" "$T/$mode.log" || true)
  log "$mode member, SIGTERM: $n log lines naming LeaveGroup"
  if [ $mode = static ]; then
    [ "$n" -eq 0 ] || fail "the static member sent a LeaveGroup: $(grep -m1 LeaveGroup "$T/$mode.log")"
  else
    [ "$n" -ge 1 ] || fail "the dynamic member sent no LeaveGroup (the check sees nothing)"
  fi
done
log "PASS"
