#!/usr/bin/env bash
# A budget set 2x too high, on two replicas that both have work: the 429
# that trips one replica pauses both (the trip goes over the budget topic),
# both count what the server accepted over the same window and exchange the
# counts, and both resume at their half of one group estimate of the
# server's rate. Checked:
#   - exactly one good outcome per update, none failed;
#   - a replica paused for a peer's 429, and both resumed on the group's
#     counts ("by the group"), at the same rate (within 5 %), from an
#     estimate between 0.5 and 1.1 x the sim's limit;
#   - 429s <= 3 % of the API requests.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=1000
RATE=100

start_kafka 12
grep -q "created topic cxone.budget" "$T/kafka.log" || fail "dev-kafka did not create cxone.budget"
start_sim --rate-limit $RATE --burst 10 --latency-ms 20 --log-level warn

gen_updates "$N" trip >"$T/updates.txt"

write_worker_conf "$T/w.conf" "
kafka = {
  group_id = \"group-trip\";
  consumer_properties = [ \"session.timeout.ms=6000\", \"heartbeat.interval.ms=500\" ];
};
rate = { rps = $((2 * RATE)).0; burst = 10; };"
start_worker a "$T/w.conf"
wa=$LAST_PID
start_worker b "$T/w.conf"
wb=$LAST_PID
for w in a b; do
  wait_until 60 grep -q "share 0.500 (" "$T/$w.log" ||
    fail "replica $w did not get half of the partitions"
  wait_until 20 grep -q "reading budget reports from cxone.budget" "$T/$w.log" ||
    fail "replica $w does not read cxone.budget"
done
sleep 1 # a few report intervals: each has heard the other

sim_get /_sim/stats >"$T/stats0"
log "producing $N updates over all partitions"
"$CXW_BIN/kproduce" -b "$KAFKA_BOOTSTRAP_SERVERS" -t cxone.contact-updates \
  -H batch-id=trip <"$T/updates.txt" 2>>"$T/kproduce.log" || fail "kproduce"
end=$((SECONDS + 90))
while [ $SECONDS -lt $end ]; do
  "$CXW_BIN/cxonectl" topic dump cxone.results >"$T/res" 2>>"$T/ctl.log" || true
  [ "$(grep -c . "$T/res" || true)" -ge $N ] && break
  sleep 1
done
sleep 1 # anything beyond N would be a duplicate
"$CXW_BIN/cxonectl" topic dump cxone.results >"$T/res" 2>>"$T/ctl.log"
"$CXW_BIN/cxonectl" topic dump cxone.contact-updates >"$T/src" 2>>"$T/ctl.log"
sim_get /_sim/stats >"$T/stats1"
stop_pid "$wa" || fail "replica a did not stop cleanly"
stop_pid "$wb" || fail "replica b did not stop cleanly"
check outcomes --source "$T/src" --results "$T/res" --exactly-once --max-failed 0 \
  --max-rejected 0 || fail "not exactly one good outcome per update"

grep -h '"budget"' "$T/a.log" "$T/b.log" | grep -E "429|resumes" | head -n 8 >&2 || true
grep -q "answered 429 to a peer" "$T/a.log" "$T/b.log" ||
  fail "no replica paused for the other's 429"
python3 - "$T/a.log" "$T/b.log" "$T/stats0" "$T/stats1" "$RATE" <<'PY' || fail "the group did not measure one trip together"
import json, re, sys
rx = re.compile(r"resumes at ([0-9.]+)/s .* by the group, .*server rate for the group >= ([0-9.]+)/s")
ok = True
def check(what, cond):
    global ok
    print(("ok: " if cond else "NOT: ") + what)
    ok &= cond
last = []
for path in sys.argv[1:3]:
    m = None
    for line in open(path, errors="replace"):
        m = rx.search(line) or m
    check(f"{path}: resumed on the group's counts", m is not None)
    if m:
        last.append((float(m.group(1)), float(m.group(2))))
limit = float(sys.argv[5])
if len(last) == 2:
    (ra, ea), (rb, eb) = last
    check(f"same rate on both: {ra:.2f} vs {rb:.2f}/s", abs(ra - rb) <= 0.05 * max(ra, rb))
    for e in (ea, eb):
        check(f"group estimate {e:.1f}/s within 0.5-1.1 x {limit:.0f}/s",
              0.5 * limit <= e <= 1.1 * limit)
s0, s1 = (json.load(open(p)) for p in sys.argv[3:5])
api = sum(s1["requests"].values()) - sum(s0["requests"].values())
r429 = s1["rateLimited"] - s0["rateLimited"]
check(f"429s {r429} of {api} requests <= 3 %", r429 <= 0.03 * api)
sys.exit(0 if ok else 1)
PY
log "PASS"
