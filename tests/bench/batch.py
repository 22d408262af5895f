#!/usr/bin/env python3
"""Helpers of tests/bench/batch.sh (no third-party modules).

  batch.py row TARGET REPLICAS UPDATES DIR T0 T1 RPS BURST
                       one measurement as a JSON line: DIR holds results.json
                       (cxonectl topic dump cxone.results) and stats.json (the
                       sim's /_sim/stats); T0/T1 = epoch seconds just before /
                       after the updates were produced; RPS, BURST = the sim's limit
  batch.py line        the last measurement of RESULTS.jsonl (stdin), one line
  batch.py report RESULTS.jsonl [--md FILE]
                       the table side by side, the targets as PASS/MISS, and
                       with --md the table written into FILE's batching section
"""
import datetime
import json
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the tree
from benchutil import load_json_lines, write_tables  # noqa: E402

SECTION_BEGIN = "<!-- batch:begin -->"
SECTION_END = "<!-- batch:end -->"
TABLES_BEGIN = "<!-- batch-tables:begin -->"
TABLES_END = "<!-- batch-tables:end -->"
SPEEDUP = 20.0       # issue 14: >= 20 x the seed target's updates/s
UTILIZATION = 0.98   # issue 14: requests/s / the sim's limit >= 98 %


def parse_ts(s):
    # 2026-11-21T07:00:00.123Z
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def outcomes(path):
    """finishedAt and status of each source's first outcome (duplicates count once)."""
    seen = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                o = json.loads(json.loads(line)["value"])
            except (ValueError, KeyError, TypeError):
                continue
            if not isinstance(o, dict) or "finishedAt" not in o:
                continue
            s = o.get("source") or {}
            key = (s.get("topic"), s.get("partition"), s.get("offset"))
            t = parse_ts(o["finishedAt"])
            if key not in seen or t < seen[key][0]:
                seen[key] = (t, o.get("status"))
    return list(seen.values())


def cmd_row(a):
    target, replicas, n, d, t0, t1, rps, burst = a
    n, t0, t1, rps = int(n), float(t0), float(t1), float(rps)
    st = json.load(open(d + "/stats.json"))
    outs = outcomes(d + "/results.json")
    times = sorted(t for t, _ in outs)
    statuses = {}
    for _, s in outs:
        statuses[s] = statuses.get(s, 0) + 1
    # requests the sim let through its limit and handled (one update each for
    # the seed target, one batch each for the address-book target)
    if target == "address-book":
        requests = st.get("addressBookRequests", 0)
        entries = st.get("addressBookEntries", 0)
    else:
        requests = st.get("contactsApplied", 0)
        entries = requests
    el = (times[-1] - t0) if times else None
    # latency from produce to outcome: each message was produced between T0
    # and T1 (the import's start and end), so finishedAt - T0 is an upper
    # bound and finishedAt - T1 a lower one
    lat_hi = [t - t0 for t in times]
    lat_lo = [max(0.0, t - t1) for t in times]
    out = {"kind": "run", "target": target, "replicas": int(replicas), "updates": n,
           "outcomes": len(outs), "statuses": statuses, "produce_s": t1 - t0,
           "elapsed_s": el, "requests": requests, "entries": entries,
           "rate_limited": st.get("rateLimited", 0), "limit_rps": rps,
           "updates_per_s": len(outs) / el if el else None,
           "requests_per_s": requests / el if el else None,
           "updates_per_request": len(outs) / requests if requests else None,
           "p50_s": pct(lat_hi, 50), "p99_s": pct(lat_hi, 99),
           "p99_lo_s": pct(sorted(lat_lo), 99)}
    # steady state: the requests after the bucket's burst, over the time from
    # the first outcome to the last (leaves out the start: consuming, the
    # first batch filling)
    burst = int(burst)
    span = (times[-1] - times[0]) if len(times) > 1 else 0
    out["steady_requests_per_s"] = (requests - burst) / span if span > 0 and requests > burst else None
    out["utilization"] = out["requests_per_s"] / rps if out["requests_per_s"] else None
    print(json.dumps(out))


def fmt(v, spec="{:.1f}"):
    return "–" if v is None else spec.format(v)


def cmd_line(_a):
    rows = [json.loads(l) for l in sys.stdin if l.strip()]
    r = [x for x in rows if x.get("kind") == "run"][-1]
    print(f"  {r['target']:<12} x{r['replicas']}: {r['outcomes']}/{r['updates']} outcomes "
          f"{r['statuses']} in {fmt(r['elapsed_s'])} s: {fmt(r['updates_per_s'])} updates/s, "
          f"{fmt(r['requests_per_s'], '{:.2f}')} requests/s "
          f"({fmt(r['utilization'] and 100 * r['utilization'])} % of {r['limit_rps']:g}), "
          f"{fmt(r['updates_per_request'], '{:.1f}')} updates/request, "
          f"{r['rate_limited']} x 429, p99 {fmt(r['p99_s'])} s")


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def build(rows):
    runs = [r for r in rows if r.get("kind") == "run"]
    meta = next((r for r in rows if r.get("kind") == "meta"), {})
    lines = []
    if meta:
        lines += [f"Measured {meta.get('date')} at commit {meta.get('commit')}, "
                  f"{meta.get('nproc')} cores, load average at the end "
                  f"{meta.get('loadavg')}, {meta.get('duration_s')} s in all: "
                  f"`{meta.get('command')}`.", ""]
    lines += table(
        ["target", "replicas", "updates", "outcomes", "elapsed s", "updates/s",
         "requests (sim)", "updates/request", "requests/s", "utilization",
         "steady requests/s", "429s", "p50 s", "p99 s (≥)"],
        [[r["target"], r["replicas"], f"{r['updates']:,}", f"{r['outcomes']:,}",
          fmt(r["elapsed_s"]), fmt(r["updates_per_s"]), f"{r['requests']:,}",
          fmt(r["updates_per_request"]), fmt(r["requests_per_s"], "{:.2f}"),
          fmt(r["utilization"] and 100 * r["utilization"]) + " %",
          fmt(r.get("steady_requests_per_s"), "{:.2f}"), r["rate_limited"],
          fmt(r["p50_s"]), f"{fmt(r['p99_s'])} ({fmt(r['p99_lo_s'])})"] for r in runs])
    verdicts = []
    for reps in sorted({r["replicas"] for r in runs}):
        seed = [r for r in runs if r["replicas"] == reps and r["target"] == "seed"]
        ab = [r for r in runs if r["replicas"] == reps and r["target"] == "address-book"]
        if seed and ab and seed[-1]["updates_per_s"] and ab[-1]["updates_per_s"]:
            x = ab[-1]["updates_per_s"] / seed[-1]["updates_per_s"]
            verdicts.append([f"{reps} replica(s): address-book ≥ {SPEEDUP:g}× seed updates/s",
                             "PASS" if x >= SPEEDUP else "MISS",
                             f"{x:.1f}× ({ab[-1]['updates_per_s']:.1f} vs "
                             f"{seed[-1]['updates_per_s']:.1f})"])
        for r in ab:
            u = r["utilization"] or 0
            verdicts.append([f"{reps} replica(s): address-book utilization ≥ "
                             f"{100 * UTILIZATION:g} %", "PASS" if u >= UTILIZATION else "MISS",
                             f"{100 * u:.1f} % ({r['requests_per_s']:.2f} of "
                             f"{r['limit_rps']:g} requests/s)"])
        for r in ab + seed:
            verdicts.append([f"{reps} replica(s), {r['target']}: every update one outcome",
                             "PASS" if r["outcomes"] == r["updates"] else "MISS",
                             f"{r['outcomes']:,} of {r['updates']:,}: " +
                             ", ".join(f"{k} {v:,}" for k, v in sorted(r["statuses"].items()))])
    lines += ["", *table(["target", "result", "measured"], verdicts)]
    return lines


def cmd_report(a):
    rows = load_json_lines(a[0])
    lines = build(rows)
    print("\n".join(lines))
    if "--md" in a:
        md = a[a.index("--md") + 1]
        write_tables(md, lines, (SECTION_BEGIN, SECTION_END, TABLES_BEGIN, TABLES_END),
                     "Batching (address-book target)")
        print(f"batch.py: tables written into {md}", file=sys.stderr)


def main():
    cmds = {"row": cmd_row, "line": cmd_line, "report": cmd_report}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
