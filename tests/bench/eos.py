#!/usr/bin/env python3
"""Helpers of tests/bench/eos.sh, the exactly-once benchmark (no third-party modules).

  eos.py latency MODE RUNDIR         when each outcome of the run became visible to a
                                     read_committed reader (JSON on stdout)
  eos.py row MODE RESULTS.jsonl LAT  the last run's row of run.sh's runners (the last
                                     line of RESULTS.jsonl) with MODE and the latency
  eos.py line                        the last row on stdin, one line for the log
  eos.py report FILE.jsonl [--md FILE.md]
                                     tables and targets (stdout); with --md into
                                     FILE.md's exactly-once section

RUNDIR holds the dumps (topic dump, with each record's timestamp) results.json
(the outcomes), requests.json (the requests), audit.json (scenario 1: which
replica handled which source partition) and the workers' logs w<n>.log, at
worker.log_level debug: "started as <worker.id>:" and, with exactly-once, one
"transaction committed: N records, commit began A, ended B" line per commit.

Visible time of an outcome:
  off: its own Kafka timestamp (produced outside any transaction);
  on:  the end of the commit of the transaction that carried it. The worker's
       loop produces nothing while it commits, so that transaction is the
       replica's first commit that began at or after the outcome's timestamp.
       Timestamps are whole ms: an outcome stamped in the very ms in which a
       commit began and ended (a commit under 1 ms) may be of that commit or
       of the next; it is given the next one (the later, the worse) and
       counted as "ambiguous".
The broker's own visibility (the LSO moving on after the commit's markers)
is not observable here: librdkafka's mock cluster (dev-kafka) hands
uncommitted records to read_committed readers too.
"""
import bisect
import glob
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the tree
from benchutil import load_json_lines, write_tables  # noqa: E402

SECTION_BEGIN = "<!-- eos:begin -->"
SECTION_END = "<!-- eos:end -->"
TABLES_BEGIN = "<!-- eos-tables:begin -->"
TABLES_END = "<!-- eos-tables:end -->"
THROUGHPUT_RATIO = 0.90  # on / off updates/s at 256 in flight
UTILIZATION_PCT = 99.0  # scenario 1, on

COMMIT_RE = re.compile(r"transaction committed: (\d+) records, commit began (\d+), ended (\d+)")
STARTED_RE = re.compile(r"cxone-worker \S+ started as (\S+?):")


def pct(sorted_vals, p):
    """Nearest-rank percentile of a sorted list (None when empty)."""
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def worker_commits(path):
    """(worker.id, [(began, ended, records)] sorted by began) of one worker log."""
    wid, commits = None, []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = STARTED_RE.search(line)
            if m and wid is None:
                wid = m.group(1)
            m = COMMIT_RE.search(line)
            if m:
                commits.append((int(m.group(2)), int(m.group(3)), int(m.group(1))))
    commits.sort()
    return wid, commits


def source_of(o):
    s = o.get("source") or {}
    return (s.get("topic"), s.get("partition"), s.get("offset"))


def cmd_latency(a):
    mode, d = a[0], a[1]
    logs = sorted(glob.glob(os.path.join(d, "w[0-9]*.log")))
    workers = dict(worker_commits(p) for p in logs)
    # which replica handled which source partition (several replicas)
    part_worker = {}
    for m in load_json_lines(os.path.join(d, "audit.json"), missing_ok=True):
        try:
            ev = json.loads(m["value"])
            part_worker[(ev["source"]["topic"], ev["source"]["partition"])] = ev["worker"]
        except (KeyError, TypeError, json.JSONDecodeError):
            continue
    req_ts = {(m.get("topic"), m.get("partition"), m.get("offset")): m.get("timestamp")
              for m in load_json_lines(os.path.join(d, "requests.json"), missing_ok=True)}
    # one outcome per source: the last written (a redone request's second one)
    outs, dupes = {}, 0
    for m in load_json_lines(os.path.join(d, "results.json"), missing_ok=True):
        try:
            o = json.loads(m["value"])
        except (KeyError, TypeError, json.JSONDecodeError):
            continue
        if not isinstance(o, dict) or "finishedAt" not in o or m.get("timestamp") is None:
            continue
        src = source_of(o)
        if src in outs:
            dupes += 1
        if src not in outs or (m["partition"], m["offset"]) > outs[src][0]:
            outs[src] = ((m["partition"], m["offset"]), m["timestamp"])
    added, e2e, first, last = [], [], None, None
    unmatched = ambiguous = no_request = 0
    begins = {w: [c[0] for c in cs] for w, cs in workers.items()}
    for src, (_, t) in outs.items():
        vis = t
        if mode == "on":
            w = part_worker.get(src[:2])
            if w is None and len(workers) == 1:
                w = next(iter(workers))
            cs = workers.get(w) or []
            k = bisect.bisect_left(begins.get(w, []), t)
            while k < len(cs) and cs[k][0] == t and cs[k][1] == t:
                ambiguous += 1  # a sub-ms commit in the outcome's own ms: the next one
                k += 1
            if k >= len(cs):
                unmatched += 1
                continue
            vis = cs[k][1]
        added.append(vis - t)
        first = t if first is None else min(first, t)
        last = vis if last is None else max(last, vis)
        r = req_ts.get(src)
        if r is None:
            no_request += 1
        else:
            e2e.append(vis - r)
    added.sort()
    e2e.sort()
    commits = [c for cs in workers.values() for c in cs]
    span = (last - first) / 1000.0 if first is not None and last is not None else None
    print(json.dumps({
        "mode": mode, "outcomes_distinct": len(outs), "outcome_dupes": dupes,
        "matched": len(added), "unmatched": unmatched, "ambiguous": ambiguous,
        "no_request": no_request, "commits": len(commits),
        "committed_records": sum(c[2] for c in commits),
        "commit_ms_p50": pct(sorted(c[1] - c[0] for c in commits), 50),
        "commit_ms_max": max((c[1] - c[0] for c in commits), default=None),
        "added_ms_p50": pct(added, 50), "added_ms_p99": pct(added, 99),
        "added_ms_max": added[-1] if added else None,
        "e2e_ms_p50": pct(e2e, 50), "e2e_ms_p99": pct(e2e, 99),
        "visible_span_s": span,
        "visible_per_s": len(added) / span if span else None}))


def cmd_row(a):
    mode, res, lat = a
    rows = load_json_lines(res, missing_ok=True)
    r = dict(rows[-1])
    r["eos"] = mode
    r["latency"] = json.load(open(lat))
    print(json.dumps(r))


def fmt(v, spec="{:.1f}"):
    return "–" if v is None else spec.format(v)


def fms(v):
    return "–" if v is None else f"{v:,.0f}"


def cmd_line(_a):
    rows = [json.loads(l) for l in sys.stdin if l.strip()]
    r = rows[-1]
    L = r["latency"]
    what = (f"in flight {r['in_flight']}: {fmt(L['visible_per_s'], '{:.0f}')} updates/s visible"
            if r["scenario"] == 3 else
            f"{r['replicas']} replica(s): utilization {fmt(r['util_pct'])} %, "
            f"{r['r429']} x 429")
    print(f"   exactly-once {r['eos']}, {what}; {L['matched']} outcomes, "
          f"{L['commits']} commits, added latency p50 {fms(L['added_ms_p50'])} ms "
          f"p99 {fms(L['added_ms_p99'])} ms, produce -> visible p50 {fms(L['e2e_ms_p50'])} ms "
          f"p99 {fms(L['e2e_ms_p99'])} ms (unmatched {L['unmatched']}, ambiguous "
          f"{L['ambiguous']})", file=sys.stderr)


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def pair(runs, key, by):
    """{key value: {"off": row, "on": row, "n": runs}}: of several runs of a
    mode (--runs), the one with the median by(row) (the lower middle for an
    even count), so that one noisy run does not make the comparison."""
    out = {}
    for r in runs:
        out.setdefault(r[key], {}).setdefault(r["eos"], []).append(r)
    res = {}
    for k, v in sorted(out.items()):
        if "off" not in v or "on" not in v:
            continue
        med = {m: sorted(v[m], key=lambda r: by(r) or 0)[(len(v[m]) - 1) // 2]
               for m in ("off", "on")}
        med["n"] = min(len(v["off"]), len(v["on"]))
        res[k] = med
    return res


def complete(r):
    L = r["latency"]
    return L["matched"] == r["updates"] and L["unmatched"] == 0


def build(rows):
    meta = next((r for r in rows if r.get("kind") == "meta"), {})
    s3 = pair([r for r in rows if r.get("scenario") == 3 and "eos" in r], "in_flight",
              lambda r: r["latency"]["visible_per_s"])
    s1 = pair([r for r in rows if r.get("scenario") == 1 and "eos" in r], "replicas",
              lambda r: r["util_pct"])
    lines, verdicts = [], []
    if meta:
        lines += [f"Measured {meta.get('date')} at commit {meta.get('commit')}, "
                  f"{meta.get('nproc')} cores, load average at the start "
                  f"{meta.get('loadavg_start')}, at the end {meta.get('loadavg')}, "
                  f"{meta.get('duration_s')} s in all: `{meta.get('command')}`.", ""]
    if s3:
        n = next(iter(s3.values()))["off"]["updates"]
        runs = next(iter(s3.values()))["n"]
        lines += [f"**Scenario 3, unlimited** ({n:,} updates from a backlog, one worker, "
                  "sim without limit or latency" +
                  (f"; the median of {runs} runs of each mode, off and on alternating"
                   if runs > 1 else "") + "):", ""]
        lines += table(
            ["in flight", "updates/s off", "updates/s on", "on / off", "CPU µs/update off",
             "CPU µs/update on", "transactions (records each)", "commit ms p50 / max",
             "added ms p50 / p99 / max"],
            [[c, fmt(p["off"]["latency"]["visible_per_s"], "{:,.0f}"),
              fmt(p["on"]["latency"]["visible_per_s"], "{:,.0f}"),
              fmt(ratio(p), "{:.2f}"),
              fmt(p["off"]["cpu_us_per_update"], "{:.0f}"),
              fmt(p["on"]["cpu_us_per_update"], "{:.0f}"),
              f"{p['on']['latency']['commits']} "
              f"({fmt(recs_each(p['on']), '{:.0f}')})",
              f"{fms(p['on']['latency']['commit_ms_p50'])} / "
              f"{fms(p['on']['latency']['commit_ms_max'])}",
              f"{fms(p['on']['latency']['added_ms_p50'])} / "
              f"{fms(p['on']['latency']['added_ms_p99'])} / "
              f"{fms(p['on']['latency']['added_ms_max'])}"] for c, p in s3.items()])
        lines.append("")
        for c, p in s3.items():
            x = ratio(p)
            verdicts.append([f"scenario 3, {c} in flight: on ≥ {100 * THROUGHPUT_RATIO:g} % "
                             "of off (updates/s)" + ("" if c == 256 else " (judged at 256)"),
                             ("PASS" if x is not None and x >= THROUGHPUT_RATIO else "MISS")
                             if c == 256 else "–",
                             f"{fmt(x and 100 * x)} % ({fmt(p['on']['latency']['visible_per_s'], '{:,.0f}')}"
                             f" vs {fmt(p['off']['latency']['visible_per_s'], '{:,.0f}')})"])
    if s1:
        r0 = next(iter(s1.values()))["off"]
        lines += [f"**Scenario 1, rate-limited** ({r0['updates']:,} updates, sim "
                  f"{r0['sim_rps']:g}/s burst {r0['sim_burst']} latency {r0['latency_ms']} ms, "
                  "budget the same, 12 partitions):", ""]
        lines += table(
            ["replicas", "utilization off", "utilization on", "elapsed s off / on",
             "429s off / on", "transactions (records each)", "added ms p50 / p99 / max",
             "produce → visible ms p50 off / on", "p99 off / on"],
            [[k, fmt(p["off"]["util_pct"]) + " %", fmt(p["on"]["util_pct"]) + " %",
              f"{fmt(p['off']['elapsed_s'], '{:.2f}')} / {fmt(p['on']['elapsed_s'], '{:.2f}')}",
              f"{p['off']['r429']} / {p['on']['r429']}",
              f"{p['on']['latency']['commits']} ({fmt(recs_each(p['on']), '{:.0f}')})",
              f"{fms(p['on']['latency']['added_ms_p50'])} / "
              f"{fms(p['on']['latency']['added_ms_p99'])} / "
              f"{fms(p['on']['latency']['added_ms_max'])}",
              f"{fms(p['off']['latency']['e2e_ms_p50'])} / {fms(p['on']['latency']['e2e_ms_p50'])}",
              f"{fms(p['off']['latency']['e2e_ms_p99'])} / {fms(p['on']['latency']['e2e_ms_p99'])}"]
             for k, p in s1.items()])
        lines.append("")
        for k, p in s1.items():
            u_on, u_off = p["on"]["util_pct"], p["off"]["util_pct"]
            verdicts.append([f"scenario 1, {k} replica(s): utilization on ≥ {UTILIZATION_PCT:g} %",
                             "PASS" if u_on is not None and u_on >= UTILIZATION_PCT else "MISS",
                             f"{fmt(u_on)} % (off {fmt(u_off)} %)"])
    allp = [p for p in list(s3.values()) + list(s1.values())]
    on = [p["on"]["latency"] for p in allp]
    if on:
        worst = max(on, key=lambda L: L["added_ms_p99"] or 0)
        verdicts.append(["added latency (commit end − outcome produced), reported",
                         "–", "p50 " + ", ".join(fms(L["added_ms_p50"]) for L in on) +
                         " ms; p99 " + ", ".join(fms(L["added_ms_p99"]) for L in on) +
                         f" ms (worst p99 {fms(worst['added_ms_p99'])} ms)"])
    for p in allp:
        for mode in ("off", "on"):
            r = p[mode]
            if not complete(r):
                L = r["latency"]
                verdicts.append([f"scenario {r['scenario']} "
                                 f"{'in flight ' + str(r['in_flight']) if r['scenario'] == 3 else str(r['replicas']) + ' replica(s)'}"
                                 f" {mode}: every update one visible outcome", "MISS",
                                 f"{L['matched']} of {r['updates']} (unmatched {L['unmatched']})"])
    lines += table(["target", "result", "measured"], verdicts)
    return lines


def ratio(p):
    a, b = p["on"]["latency"]["visible_per_s"], p["off"]["latency"]["visible_per_s"]
    return a / b if a and b else None


def recs_each(r):
    L = r["latency"]
    return L["committed_records"] / L["commits"] if L["commits"] else None


def cmd_report(a):
    rows = load_json_lines(a[0], missing_ok=True)
    lines = build(rows)
    print("\n".join(lines))
    if "--md" in a:
        md = a[a.index("--md") + 1]
        write_tables(md, lines, (SECTION_BEGIN, SECTION_END, TABLES_BEGIN, TABLES_END),
                     "Exactly-once")
        print(f"eos.py: tables written into {md}", file=sys.stderr)


def main():
    cmds = {"latency": cmd_latency, "row": cmd_row, "line": cmd_line, "report": cmd_report}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
