#!/usr/bin/env python3
"""Helpers of tests/bench/scale.sh (no third-party modules).

  scale.py settled K LOG...          exit 0 when exactly K of the logs hold
                                     partitions and together they hold all
                                     (the "of N in all" the workers log)
  scale.py measure ARGS...           one case's figures as one JSON line
                                     (scale.sh passes the arguments)
  scale.py report RESULTS.jsonl [--md FILE] [--meta k=v ...]
                                     the tables (medians over runs) on stdout,
                                     and in FILE as Markdown
  scale.py section TABLES.md FILE   puts the tables into FILE between the lines
                                     <!-- scale-tables:begin --> and
                                     <!-- scale-tables:end -->, or, when FILE
                                     has no such lines, writes FILE with them

A worker's log says, at every rebalance callback, how many partitions it
holds afterwards ("assigned 4 partitions (8 now, of 32 in all)", "revoked 4
partitions (4 remain)"): the figures below are computed from these lines,
the results topic and the simulator's counters.
"""
import argparse
import datetime
import json
import re
import statistics
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the tree
from benchutil import load_json_lines  # noqa: E402

ASSIGN_RE = re.compile(r"assigned (\d+) partitions \((\d+) now, of (\d+) in all\)")
REVOKE_RE = re.compile(r"revoked (\d+) partitions \((\d+) remain\)")
STOP_RE = re.compile(r"stopped: consumed (\d+), succeeded (\d+)")
FAIL_RE = re.compile(r"commit of (\d+) revoked partitions failed")
# written by scale.sh into the log of a replica it killed (which could not
# log that it held nothing any more)
KILLED_MSG = "bench: killed with SIGKILL"
# a gap this long between two callbacks separates two rebalance rounds
ROUND_GAP_S = 1.0


def parse_ts(s):
    # 2026-11-21T07:00:00.123Z
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def read_log(path):
    """[(time, kind, held, total)] of one worker log, plus its last
    "stopped: consumed" count and the failed revoke commits."""
    ev, consumed, failed = [], None, 0
    try:
        f = open(path, encoding="utf-8", errors="replace")
    except OSError:
        return ev, consumed, failed
    with f:
        for line in f:
            if "partitions" not in line and "stopped:" not in line and "bench:" not in line:
                continue
            try:
                o = json.loads(line)
                t, msg = parse_ts(o["time"]), o["msg"]
            except (ValueError, KeyError, TypeError):
                continue
            if msg == KILLED_MSG:
                ev.append((t, "killed", 0, None))
                continue
            m = ASSIGN_RE.search(msg)
            if m:
                ev.append((t, "assign", int(m.group(2)), int(m.group(3))))
                continue
            m = REVOKE_RE.search(msg)
            if m:
                ev.append((t, "revoke", int(m.group(2)), None))
                continue
            if FAIL_RE.search(msg):
                failed += 1
            m = STOP_RE.search(msg)
            if m:
                consumed = int(m.group(1))
    return ev, consumed, failed


def cmd_settled(args):
    k, logs = int(args[0]), args[1:]
    total, held_sum, holders = 0, 0, 0
    for p in logs:
        ev, _, _ = read_log(p)
        if not ev:
            continue
        total = max([total] + [e[3] for e in ev if e[3]])
        held = ev[-1][2]
        held_sum += held
        holders += held > 0
    return 0 if total > 0 and holders == k and held_sum == total else 1


def first_outcomes(results):
    """{source: first finishedAt} and the number of outcomes."""
    first, n = {}, 0
    for m in load_json_lines(results):
        try:
            o = json.loads(m["value"]) if isinstance(m.get("value"), str) else m.get("value")
            s = o["source"]
            k = (s["topic"], s["partition"], s["offset"])
            t = parse_ts(o["finishedAt"])
        except (KeyError, TypeError, ValueError):
            continue
        n += 1
        if k not in first or t < first[k]:
            first[k] = t
    return first, n


def timeline(logs, t_from, t_to):
    """Callbacks of all logs in [t_from, t_to], the held counts at t_from,
    and the partition total."""
    per, total = [], 0
    for p in logs:
        ev, _, _ = read_log(p)
        total = max([total] + [e[3] for e in ev if e[3]])
        before = [e for e in ev if e[0] < t_from]
        per.append((before[-1][2] if before else 0, [e for e in ev if t_from <= e[0] <= t_to]))
    return per, total


def scale_event(logs, staying, t_e, t_settle):
    """Rebalance figures of one scale event from t_e until t_settle."""
    per, total = timeline(logs, t_e, t_settle)
    points = sorted((e[0], i, e[2], e[1]) for i, (_, evs) in enumerate(per) for e in evs)
    held = [h for h, _ in per]
    unowned, zero = 0.0, {i: 0.0 for i in staying}
    t = t_e
    for tp, i, h, _ in points + [(t_settle, None, None, None)]:
        dt = max(0.0, tp - t)
        unowned += dt * max(0, total - sum(held))
        for s in staying:
            if held[s] == 0:
                zero[s] += dt
        t = max(t, tp)
        if i is not None:
            held[i] = h
    # a kill is not a callback
    times = [p[0] for p in points if p[3] != "killed"]
    rounds = 0
    for j, tp in enumerate(times):
        if j == 0 or tp - times[j - 1] > ROUND_GAP_S:
            rounds += 1
    staying_cb = sum(1 for s in staying for e in per[s][1] if e[1] != "killed")
    return {"callbacks": len(times), "staying_callbacks": staying_cb, "rounds": rounds,
            "unowned_partition_s": unowned, "total_partitions": total,
            "staying_zero_s": max(zero.values()) if zero else 0.0}


def rate_in(first, a, b):
    if b <= a:
        return None
    return sum(1 for t in first.values() if a <= t < b) / (b - a)


def cmd_measure(argv):
    ap = argparse.ArgumentParser(prog="scale.py measure")
    ap.add_argument("--case", required=True)
    ap.add_argument("--assignment", required=True)
    ap.add_argument("--run", type=int, required=True)
    ap.add_argument("--replicas", required=True, help="e.g. 4 or 2>4")
    ap.add_argument("--updates", type=int, required=True)
    ap.add_argument("--rate", type=float, default=0.0)
    ap.add_argument("--source", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--sim", required=True)
    ap.add_argument("--logs", nargs="+", required=True)
    ap.add_argument("--staying", default="", help="indexes into --logs, comma-separated")
    ap.add_argument("--cpu", nargs="*", default=[], help="CPU seconds per log, in order")
    ap.add_argument("--cpu-later", nargs="*", default=[],
                    help="CPU seconds per log again, idle, at --t-cpu-later")
    ap.add_argument("--t-cpu", type=float)
    ap.add_argument("--t-cpu-later", type=float)
    ap.add_argument("--t-start", type=float, required=True)
    ap.add_argument("--t-event", type=float)
    ap.add_argument("--t-settle", type=float, required=True)
    ap.add_argument("--pre", type=float, default=5.0)
    ap.add_argument("--post", type=float, default=5.0)
    a = ap.parse_args(argv)

    src = {(m["topic"], m["partition"], m["offset"]) for m in load_json_lines(a.source)}
    first, n_out = first_outcomes(a.results)
    sim = json.load(open(a.sim))
    lost = len(src - set(first))
    times = sorted(first.values())
    out = {"case": a.case, "assignment": a.assignment, "run": a.run, "replicas": a.replicas,
           "updates": a.updates, "rate": a.rate, "sources": len(src), "outcomes": n_out,
           "lost": lost, "dup_outcomes": n_out - len(first),
           "applied_twice": sim.get("appliedDuplicates", 0),
           "applied": sim.get("contactsApplied", 0)}
    consumed, failed_commits = [], 0
    for p in a.logs:
        _, c, f = read_log(p)
        consumed.append(c or 0)
        failed_commits += f
    out["consumed"] = consumed
    out["failed_revoke_commits"] = failed_commits
    if a.cpu:
        cpu = [float(x) for x in a.cpu]
        out["cpu_s"] = cpu
        done = len(first)
        out["cpu_us_per_update"] = sum(cpu) * 1e6 / done if done else None
        per = [c * 1e6 / n for c, n in zip(cpu, consumed) if n > 0]
        out["cpu_us_per_update_replica"] = per
        if (len(a.cpu_later) == len(cpu) and a.t_cpu and a.t_cpu_later
                and a.t_cpu_later > a.t_cpu and done):
            # the CPU an idle replica burns per second, times each replica's
            # time from its start to the end of the work, taken off
            idle = [(float(b) - c) / (a.t_cpu_later - a.t_cpu)
                    for b, c in zip(a.cpu_later, cpu)]
            out["idle_cpu_ms_per_s"] = [x * 1e3 for x in idle]
            net = sum(cpu) - sum(idle) * (a.t_cpu - a.t_start)
            out["cpu_us_per_update_net"] = net * 1e6 / done
    if times:
        out["with_join_ups"] = len(times) / (times[-1] - a.t_start) if times[-1] > a.t_start else None
        out["settle_s"] = a.t_settle - (a.t_event if a.t_event else a.t_start)
        after = [t for t in times if t >= a.t_settle]
        # steady state: after the assignment settled, only when a fifth or
        # more of the updates were left for it
        if len(after) >= max(2, len(times) // 5) and after[-1] > a.t_settle:
            out["steady_ups"] = len(after) / (after[-1] - a.t_settle)
    staying = [int(x) for x in a.staying.split(",") if x != ""]
    if a.t_event:
        out.update(scale_event(a.logs, staying, a.t_event, a.t_settle))
        out["pre_ups"] = rate_in(first, a.t_event - a.pre, a.t_event)
        out["event_ups"] = rate_in(first, a.t_event, a.t_settle)
        out["post_ups"] = rate_in(first, a.t_settle, a.t_settle + a.post)
        # updates finished per second, from PRE s before the event until POST
        # s after it settled (the rate's shape through the event)
        t0, bins = a.t_event - a.pre, int(a.t_settle + a.post - (a.t_event - a.pre)) + 1
        per_s = [0] * max(0, min(bins, 600))
        for t in first.values():
            i = int(t - t0)
            if 0 <= i < len(per_s):
                per_s[i] += 1
        out["per_s_from_event_minus_pre"] = per_s
        # whole seconds from the event until it settled in which the group
        # finished no update at all (a partition count says nothing of this:
        # the replicas that stay may keep only partitions without load)
        first_bin, last_bin = int(a.pre), int(a.t_settle - t0)
        out["standstill_s"] = sum(1 for c in per_s[first_bin:last_bin + 1] if c == 0)
    else:
        out.update(scale_event(a.logs, [], a.t_start, a.t_settle))
    print(json.dumps(out))


def med(rows, key):
    v = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(v) if v else None


def f(v, spec="{:.1f}"):
    return "-" if v is None else spec.format(v)


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def groups(rows, case):
    g = {}
    for r in rows:
        if r.get("case") == case:
            g.setdefault((r["assignment"], r["replicas"]), []).append(r)
    return g


CASE_TITLE = {
    "b": "(b) Scale-out 2 → 4 under load",
    "c": "(c) Scale-in 4 → 2 under load (SIGTERM to 2 replicas at once)",
    "d": "(d) One of 2 replicas restarted within the session timeout, static membership",
}


def cmd_report(argv):
    ap = argparse.ArgumentParser(prog="scale.py report")
    ap.add_argument("results")
    ap.add_argument("--md")
    ap.add_argument("--meta", nargs="*", default=[])
    a = ap.parse_args(argv)
    rows = load_json_lines(a.results)
    runs = [r for r in rows if r.get("case") == "meta"]
    rows = [r for r in rows if r.get("case") in ("a", "b", "c", "d")]
    meta = dict(kv.split("=", 1) for kv in a.meta if "=" in kv)
    md = []
    for r in runs:
        md.append(f"- `{r['command']}`: {r['date']}, commit {r['commit']}, nproc {r['nproc']}, "
                  f"load average at the end {r['load']}, {r['duration_s']} s of measurements")
    if runs:
        md.append("")
    ga = groups(rows, "a")
    if ga:
        r0 = next(iter(ga.values()))[0]
        md += [f"#### (a) All replicas started together: {r0['updates']:,} updates from a "
               f"backlog, sim latency {meta.get('a_latency', '?')} ms, no rate budget", ""]
        base, base_net = {}, {}
        body = []
        for (asg, rep), rs in sorted(ga.items(), key=lambda kv: (kv[0][0], int(kv[0][1]))):
            cpu = med(rs, "cpu_us_per_update")
            net = med(rs, "cpu_us_per_update_net")
            base.setdefault(asg, cpu)
            base_net.setdefault(asg, net)
            per = [x for r in rs for x in r.get("cpu_us_per_update_replica", [])]
            body.append([asg, rep, len(rs), f(med(rs, "with_join_ups"), "{:,.0f}"),
                         f(med(rs, "steady_ups"), "{:,.0f}"), f(med(rs, "settle_s"), "{:.1f}"),
                         f(med(rs, "rounds"), "{:.0f}"), f(cpu),
                         f(cpu / base[asg] if cpu and base.get(asg) else None, "{:.2f}"),
                         f(net),
                         f(net / base_net[asg] if net and base_net.get(asg) else None, "{:.2f}"),
                         f(statistics.median([x for r in rs
                                              for x in r.get("idle_cpu_ms_per_s", [])])
                           if any(r.get("idle_cpu_ms_per_s") for r in rs) else None),
                         (f"{min(per):.0f}–{max(per):.0f}" if per else "-"),
                         max(r["lost"] for r in rs), f(med(rs, "applied_twice"), "{:.0f}")])
        md += table(["assignment", "replicas", "runs", "updates/s with the join",
                     "updates/s after it", "s to full assignment", "rebalance rounds",
                     "CPU µs/update (all replicas)", "ratio to the fewest replicas",
                     "CPU µs/update less idle", "ratio to the fewest replicas",
                     "idle CPU ms/s per replica",
                     "CPU µs/update per replica (min–max)", "lost (max)", "applied twice"],
                    body)
        md.append("")
    for case in ("b", "c", "d"):
        g = groups(rows, case)
        if not g:
            continue
        r0 = next(iter(g.values()))[0]
        md += [f"#### {CASE_TITLE[case]}: {r0['updates']:,} updates, budget "
               f"{r0['rate']:.0f}/s, sim latency {meta.get('bcd_latency', '?')} ms", ""]
        body = []
        for (asg, rep), rs in sorted(g.items()):
            rate = rs[0]["rate"] or None
            ratio = (lambda k: f(med(rs, k) / rate if med(rs, k) is not None and rate else None,
                                 "{:.2f}"))
            body.append([asg, rep, len(rs), f(med(rs, "settle_s")), f(med(rs, "rounds"), "{:.0f}"),
                         f(med(rs, "callbacks"), "{:.0f}"),
                         f(med(rs, "staying_callbacks"), "{:.0f}"),
                         f(med(rs, "staying_zero_s"), "{:.2f}"),
                         f(med(rs, "unowned_partition_s")),
                         f(med(rs, "standstill_s"), "{:.0f}"),
                         ratio("pre_ups"), ratio("event_ups"), ratio("post_ups"),
                         max(r["lost"] for r in rs),
                         f"{med(rs, 'dup_outcomes'):.0f} ({max(r['dup_outcomes'] for r in rs)})",
                         f"{med(rs, 'applied_twice'):.0f} ({max(r['applied_twice'] for r in rs)})",
                         f(med(rs, "failed_revoke_commits"), "{:.0f}")])
        md += table(["assignment", "replicas", "runs",
                     "s until every partition is consumed again",
                     "rebalance rounds", "callbacks (all replicas)",
                     "callbacks on replicas that stay", "s a staying replica held none",
                     "partition-s unowned", "s with no update finished",
                     "ratio to budget before", "during",
                     "after", "lost (max)", "duplicate outcomes (max)", "applied twice (max)",
                     "failed revoke commits"], body)
        md.append("")
    if rows:
        md += ["Every run (figures per run, medians above):", ""]
        md += table(["case", "assignment", "replicas", "run", "s to settle", "rounds",
                     "partition-s unowned", "s with no update finished", "updates/s during",
                     "lost", "duplicate outcomes", "applied twice"],
                    [[r["case"], r["assignment"], r["replicas"], r["run"],
                      f(r.get("settle_s")), r.get("rounds", "-"),
                      f(r.get("unowned_partition_s")), r.get("standstill_s", "-"),
                      f(r.get("event_ups") if r["case"] != "a" else r.get("with_join_ups"),
                        "{:,.0f}"),
                      r["lost"], r["dup_outcomes"], r["applied_twice"]] for r in rows])
        md.append("")
    print("\n".join(md))
    if a.md:
        with open(a.md, "w") as fh:
            fh.write("\n".join(md) + "\n")
    return 0


BEGIN = "<!-- scale-tables:begin -->"
END = "<!-- scale-tables:end -->"


def cmd_section(args):
    tables, path = args[0], args[1]
    body = [BEGIN, "", open(tables).read().rstrip("\n"), "", END]
    try:
        old = open(path).read()
    except OSError:
        old = ""
    i, j = old.find(BEGIN), old.find(END)
    if i >= 0 and j > i:
        text = old[:i] + "\n".join(body) + old[j + len(END):]
    else:
        text = "\n".join(body) + "\n"
    with open(path, "w") as fh:
        fh.write(text)
    return 0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    fn = {"settled": cmd_settled, "measure": cmd_measure, "report": cmd_report,
          "section": cmd_section}.get(cmd)
    if not fn:
        sys.exit(__doc__)
    sys.exit(fn(args) or 0)


if __name__ == "__main__":
    main()
