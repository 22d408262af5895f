#!/usr/bin/env bash
# test_docs_metrics.sh: docs/operations.md's metrics table is what /metrics
# serves.
#
# One worker with its admin listener does contact updates and schedule
# imports (config/samples, against cxone-sim), so that the labelled series
# exist (every endpoint, lag per partition). Then, from /metrics:
#  - every family served (HELP/TYPE lines) has a row in the table, and
#    every row names a family served, with the TYPE the table says;
#  - each row's label names are those of the family's series (the
#    histogram's `le` aside);
#  - where the table lists a label's values (`name (`a`, `b`)`), they are
#    exactly the values served;
#  - every other `cxw_...` name in operations.md is a family served, and
#    every `name{label="value"}` there names a label and value served.
# The same runs check the sample outputs docs/cxonectl.md shows for them.
# Every wait is bounded; everything started is stopped on exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

CTL="$CXW_BIN/cxonectl"

start_kafka 3
start_sim --job-duration-ms 300 --unknown-contact-prefix unknown-
write_worker_conf "$T/w.conf" \
  'kafka = { consumer_properties = [ "session.timeout.ms=6000", "statistics.interval.ms=500" ]; };
   worker = { admin_listen = "127.0.0.1:0"; log_level = "info"; };
   schedules = { poll_interval_ms = 100; };'
start_worker w1 "$T/w.conf"
W=$LAST_PID
port_of() { grep -o 'admin listener on [^ ]* (port [0-9]*)' "$T/w1.log" | grep -o '[0-9]*)$' | tr -d ')'; }
wait_until 30 port_of >/dev/null || fail "no admin port in the worker's log"
PORT=$(port_of)

rc=0
timeout 120 "$CTL" contacts import "$CXW_SRC/config/samples/contacts.csv" --wait --timeout 90 \
  >"$T/c.out" 2>"$T/c.log" || rc=$?
[ $rc -eq 3 ] || fail "contacts import: exit $rc, expected 3 (some rows are rejected on purpose)"
rc=0
timeout 120 "$CTL" schedules import "$CXW_SRC/config/samples/schedules.json" --wait --timeout 90 \
  >"$T/s.out" 2>"$T/s.log" || rc=$?
[ $rc -eq 3 ] || fail "schedules import: exit $rc, expected 3 (some imports are rejected on purpose)"
"$CTL" results --batch-id "$(head -n 1 "$T/c.out")" >"$T/cr.out" 2>>"$T/c.log" || fail "results (contacts)"
"$CTL" results --batch-id "$(head -n 1 "$T/s.out")" >"$T/sr.out" 2>>"$T/s.log" || fail "results (schedules)"

# The sample outputs of docs/cxonectl.md are what these runs printed: the
# contacts import's skipped rows, produced count and summary, the schedules
# import's summary, and the form of the results lines it shows (a rejected
# update, a succeeded import), the times, batch and job ids aside.
python3 - "$CXW_SRC/docs/cxonectl.md" "$T" <<'PY' || fail "docs/cxonectl.md's sample outputs differ (above)"
import re, sys

doc = open(sys.argv[1], encoding="utf-8").read().splitlines()
T = sys.argv[2]
out = lambda n: open(f"{T}/{n}", encoding="utf-8").read().splitlines()
problems = []

def block_after(pred):
    """The lines of the first fenced block that starts where pred holds."""
    for i, line in enumerate(doc):
        if line.startswith("```") and i + 1 < len(doc) and pred(doc[i + 1]):
            j = doc.index("```", i + 1)
            return doc[i + 1:j]
    problems.append("no such block in docs/cxonectl.md")
    return []

def same(what, want, got):
    if want != got:
        problems.append(f"{what}: the doc shows {want}, the run printed {got}")

c = block_after(lambda l: l == "$ cxonectl contacts import config/samples/contacts.csv --wait")
summary = [l for l in c if l.startswith("Succeeded") or l.startswith("  ")]
same("contacts import, stdout", summary, out("c.out")[1:])
strip = lambda l: re.sub(r"^\S*config/samples/", "config/samples/", re.sub(r"batch-\S+", "B", l))
same("contacts import, stderr",
     [strip(l) for l in c if "row skipped" in l or ": produced " in l],
     [strip(l) for l in out("c.log") if "row skipped" in l or ": produced " in l])
same("schedules import, stdout", block_after(lambda l: l == "Succeeded 3 | Rejected 4 | Failed 0"),
     out("s.out")[1:])

def results_form(line):
    """A results line with its time, batch id and job id as placeholders."""
    line = re.sub(r"^\S+Z ", "TIME ", line)
    line = re.sub(r" batch=\S+", " batch=B", line)
    return re.sub(r" job=job-[0-9a-f]+", " job=JOB", line)

for want, name in ((r" contact-update rejected c1010 ", "cr.out"),
                   (r" schedule-import succeeded ", "sr.out")):
    shown = [results_form(l) for l in doc if re.match(r"\d{4}-\S+Z" + want, l)]
    printed = {results_form(l) for l in out(name) if want in l}
    if not shown:
        problems.append(f"no results line with '{want.strip()}' in docs/cxonectl.md")
    for l in shown:
        if l not in printed:
            problems.append(f"results: the doc shows '{l}', the run printed {sorted(printed)}")

for p in problems:
    print("  " + p, file=sys.stderr)
print(f"check: docs/cxonectl.md's sample outputs, {len(problems)} problem(s)", file=sys.stderr)
sys.exit(1 if problems else 0)
PY

has_lag() {
  curl -fsS --max-time 10 "http://127.0.0.1:$PORT/metrics" >"$T/metrics.txt" &&
    grep -q '^cxw_consumer_lag{' "$T/metrics.txt"
}
wait_until 30 has_lag || fail "no cxw_consumer_lag series on /metrics"
kill -0 "$W" || fail "the worker died"

python3 - "$CXW_SRC/docs/operations.md" "$T/metrics.txt" <<'PY' || fail "docs/operations.md and /metrics differ (above)"
import re, sys

doc = open(sys.argv[1], encoding="utf-8").read()
served_type, labels, values = {}, {}, {}
for line in open(sys.argv[2]):
    m = re.match(r"# TYPE (\S+) (\S+)", line)
    if m:
        served_type[m.group(1)] = m.group(2)
        labels.setdefault(m.group(1), set())
        continue
    m = re.match(r"([a-z_:]+?)(_bucket|_sum|_count)?(\{(.*)\})? \S+$", line.strip())
    if not m or line.startswith("#"):
        continue
    name = m.group(1) if m.group(1) in served_type else m.group(1) + (m.group(2) or "")
    for k, v in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(4) or ""):
        if k == "le":
            continue
        labels.setdefault(name, set()).add(k)
        values.setdefault((name, k), set()).add(v)

problems = []
rows = {}
for line in doc.splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("| `cxw_") else []
    if len(cells) != 4:
        continue
    for name in re.findall(r"`(cxw_\w+)`", cells[0]):
        rows[name] = (cells[1], cells[2])

for name in sorted(set(served_type) - set(rows)):
    problems.append(f"{name}: served, not in the table")
for name, (typ, lab) in sorted(rows.items()):
    if name not in served_type:
        problems.append(f"{name}: in the table, not served")
        continue
    if typ != served_type[name]:
        problems.append(f"{name}: the table says {typ}, /metrics says {served_type[name]}")
    # "a (`x`, `y`), b (text)" -> [("a", "`x`, `y`"), ("b", "text")], split at top-level commas
    parts, depth, cur = [], 0, ""
    for ch in lab:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur); cur = ""
        else:
            cur += ch
    parts.append(cur)
    doc_labels = {}
    for p in (p.strip() for p in parts if p.strip()):
        m = re.match(r"(\w+)\s*(?:\((.*)\))?$", p)
        if not m:
            problems.append(f"{name}: cannot read the label cell part '{p}'")
            continue
        doc_labels[m.group(1)] = m.group(2)
    if set(doc_labels) != labels.get(name, set()):
        problems.append(f"{name}: the table's labels {sorted(doc_labels)}, "
                        f"/metrics has {sorted(labels.get(name, set()))}")
    for k, inner in doc_labels.items():
        if inner is None or not re.fullmatch(r"\s*`[^`]+`(\s*,\s*`[^`]+`)*\s*", inner):
            continue  # described in words, not listed
        listed = set(re.findall(r"`([^`]+)`", inner))
        seen = values.get((name, k), set())
        if listed != seen:
            problems.append(f"{name}: label {k}: the table lists {sorted(listed)}, "
                            f"/metrics serves {sorted(seen)}")

for name in sorted(set(re.findall(r"\b(cxw_[a-z_]+)", doc)) - set(rows)):
    if name not in served_type:
        problems.append(f"{name}: named in operations.md, not served")
for name, sel in re.findall(r"`(cxw_[a-z_]+)\s*\{([^}]*)\}`", doc):
    for k, v in re.findall(r'(\w+)="([^"]*)"', sel):
        if k not in labels.get(name, set()) or v not in values.get((name, k), set()):
            problems.append(f"{name}{{{k}=\"{v}\"}}: in operations.md, no such series served")

for p in problems:
    print("  " + p, file=sys.stderr)
print(f"check: {len(rows)} metrics in the table, {len(served_type)} served, "
      f"{len(problems)} problem(s)", file=sys.stderr)
sys.exit(1 if problems else 0)
PY

stop_pid "$W" 30 || fail "the worker did not stop cleanly"
log "PASS"
