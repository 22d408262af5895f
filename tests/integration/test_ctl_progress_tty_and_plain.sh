#!/usr/bin/env bash
# cxonectl contacts import --wait shows a progress bar when stdout is a
# terminal (run under script(1) for a pseudo-terminal) and plain lines,
# without carriage returns, when it is not; both estimate the time left from
# the rate outcomes come in, not from --timeout.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command -v script >/dev/null || fail "script(1) (bsdutils) is needed for a pseudo-terminal"

start_kafka 3
start_sim --latency-ms 100
write_worker_conf "$T/w.conf" 'rate = { rps = 0.0; }; http = { max_in_flight = 4; };'
start_worker w1 "$T/w.conf"
python3 "$CXW_SRC/tests/integration/gen_contacts.py" 600 600 p >"$T/p.csv"

"$CXW_BIN/cxonectl" contacts import "$T/p.csv" --batch-id plain --wait --timeout 120 \
  >"$T/plain.out" 2>"$T/plain.err" || fail "plain import: $(cat "$T/plain.out")"
grep -q "Succeeded 600 | Rejected 0 | Failed 0" "$T/plain.out" || fail "plain summary"
grep -q "^outcomes: [0-9]* of 600 ([0-9]*%), " "$T/plain.err" || fail "no plain progress lines: $(cat "$T/plain.err")"
# The time left is estimated from the rate outcomes come in (~40/s here:
# 4 in flight, 100 ms each; 600 take ~15 s), not the --timeout counting
# down (which would say ~115 s).
grep -E "^outcomes: " "$T/plain.err" >&2
grep -Eq "^outcomes: [0-9]+ of 600 \([0-9]+%\), (estimating|~[0-9]+s left)$" "$T/plain.err" ||
  fail "progress lines are not 'estimating' or '~Ns left'"
python3 - "$T/plain.err" <<'PY' || fail "the estimates do not follow the rate"
import re, sys
est = [int(m.group(1)) for m in re.finditer(r"^outcomes: \d+ of 600 \(\d+%\), ~(\d+)s left$",
                                            open(sys.argv[1]).read(), re.M)]
assert est, "no estimate at all"
assert all(e <= 30 for e in est), f"estimates {est}: a timeout counting down, not the rate"
PY
if grep -q $'\r' "$T/plain.err" "$T/plain.out"; then fail "carriage returns without a terminal"; fi

script -qec "'$CXW_BIN/cxonectl' contacts import '$T/p.csv' --batch-id tty --wait --timeout 120" \
  /dev/null >"$T/tty.out" 2>&1 </dev/null || fail "tty import: $(tail -c 300 "$T/tty.out")"
grep -q "Succeeded 600 | Rejected 0 | Failed 0" "$T/tty.out" || fail "tty summary"
grep -q '\[#*-*\] [0-9]*/600 ' "$T/tty.out" || fail "no progress bar on a terminal: $(tail -c 300 "$T/tty.out")"
grep -Eq '\] [0-9]+/600 +[0-9]+%  ~[0-9]+s left' "$T/tty.out" || fail "no estimate on the bar: $(tail -c 300 "$T/tty.out")"
grep -q $'\r' "$T/tty.out" || fail "the bar does not redraw in place"
log "PASS"
