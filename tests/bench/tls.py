#!/usr/bin/env python3
"""Helpers of tests/bench/tls.sh (no third-party modules).

  tls.py row worker|wrk MODE RUN IN_FLIGHT UPDATES DIR CPU0 CPU1 OWN_CALLS
                       one measurement as a JSON line (DIR holds stats.json and
                       span.json or wrk.json; OWN_CALLS = the benchmark's own
                       calls to the sim, each one connection)
  tls.py line          the last measurement of RESULTS.jsonl (stdin), one line
  tls.py report RESULTS.jsonl [--md FILE]
                       medians per mode and in-flight count, the targets, and
                       with --md the tables written into FILE's HTTPS section
"""
import json
import statistics
import sys

SECTION_BEGIN = "<!-- https:begin -->"
SECTION_END = "<!-- https:end -->"
TABLES_BEGIN = "<!-- https-tables:begin -->"
TABLES_END = "<!-- https-tables:end -->"
RATIO_TLS = 1.5  # issue 13: worker CPU/update <= 1.5 x wrk CPU/request over HTTPS
MIN_REQ_PER_HANDSHAKE = 100


def cmd_row(a):
    kind, mode, runno, c, n, d, cpu0, cpu1, own = a
    st = json.load(open(d + "/stats.json"))
    own = int(own)
    conns = st.get("connections", 0) - own
    hs = st.get("tlsHandshakes", 0) - (own if mode == "tls" else 0)
    out = {"kind": kind, "mode": mode, "run": int(runno), "in_flight": int(c),
           "connections": conns, "handshakes": hs}
    if kind == "worker":
        span = json.load(open(d + "/span.json"))
        n = int(n)
        cpu = float(cpu1) - float(cpu0)
        el = span.get("span_s")
        out.update(updates=n, outcomes=span["outcomes"], statuses=span["statuses"],
                   elapsed_s=el, updates_per_s=span["outcomes"] / el if el else None,
                   cpu_s=cpu, cpu_us=cpu * 1e6 / n, requests=st.get("requestsTotal", 0),
                   token_fetches=st.get("tokenFetches", 0),
                   applied=st.get("contactsApplied", 0))
    else:
        w = json.load(open(d + "/wrk.json"))
        out.update(requests=st.get("requestsTotal", 0) - 1, wrk_requests=w["requests"],
                   rps=w["rps"], cpu_s=w["cpu_s"], cpu_us=w["cpu_us_per_req"],
                   non2xx=w["non2xx"], socket_errors=w["socket_errors"])
    print(json.dumps(out))


def cmd_line(_a):
    lines = [l for l in sys.stdin.read().splitlines() if l.strip()]
    r = json.loads(lines[-1])
    hs = "%d connections, %d TLS handshakes, %d requests" % (
        r["connections"], r["handshakes"], r["requests"])
    if r["kind"] == "worker":
        print("   %s: %d outcomes in %.2f s = %.0f updates/s, worker CPU %.1f us/update; %s"
              % (r["mode"], r["outcomes"], r["elapsed_s"] or 0, r["updates_per_s"] or 0,
                 r["cpu_us"], hs), file=sys.stderr)
    else:
        print("   %s: wrk %.0f requests/s, %.2f us CPU/request, non-2xx %d %s; %s"
              % (r["mode"], r["rps"], r["cpu_us"] or 0, r["non2xx"], r["socket_errors"], hs),
              file=sys.stderr)


def med(rows, key):
    v = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(v) if v else None


def fmt(v, spec="{:.1f}"):
    return "-" if v is None else spec.format(v)


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def handshakes_ok(r):
    """One handshake per connection, not one per request."""
    return (r["handshakes"] <= r["connections"] and
            r["requests"] >= MIN_REQ_PER_HANDSHAKE * max(r["handshakes"], 1))


def build(rows):
    meta = next((r for r in rows if r.get("kind") == "meta"), {})
    meas = [r for r in rows if r.get("kind") in ("worker", "wrk")]
    md, verdicts = [], []
    runs = len({r["run"] for r in meas})
    if meta:
        md.append(f"Measured {meta.get('date')} at commit {meta.get('commit')}, "
                  f"`{meta.get('command')}`, {runs} run(s), {meta.get('duration_s')} s; "
                  f"nproc {meta.get('nproc')}, load average at the end {meta.get('loadavg')} "
                  f"(the cores were shared with other work).")
        md.append("")
    body = []
    for c in sorted({r["in_flight"] for r in meas}):
        for mode in ("plain", "tls"):
            w = [r for r in meas if r["kind"] == "worker" and r["mode"] == mode
                 and r["in_flight"] == c]
            k = [r for r in meas if r["kind"] == "wrk" and r["mode"] == mode
                 and r["in_flight"] == c]
            if not w and not k:
                continue
            cpu, kcpu = med(w, "cpu_us"), med(k, "cpu_us")
            ratio = cpu / kcpu if cpu and kcpu else None
            # the ratio of every run's pair, for the spread
            pairs = sorted(a["cpu_us"] / b["cpu_us"] for a in w for b in k
                           if a["run"] == b["run"] and b["cpu_us"])
            hs_w = all(handshakes_ok(r) for r in w) if mode == "tls" else None
            cell = "-"
            if mode == "tls":
                ok = ratio is not None and ratio <= RATIO_TLS
                verdicts.append((f"HTTPS worker CPU/update <= {RATIO_TLS}x wrk CPU/request "
                                 f"(in flight {c})", ok, f"{fmt(ratio, '{:.2f}')}x"))
                cell = "PASS" if ok else "**MISS**"
                verdicts.append((f"HTTPS one handshake per connection, not per request "
                                 f"(in flight {c}, every run)", hs_w,
                                 "; ".join(f"{r['handshakes']} handshakes / "
                                           f"{r['connections']} connections / "
                                           f"{r['requests']} requests" for r in w)))
            body.append([
                c, "HTTPS" if mode == "tls" else "HTTP", len(w),
                fmt(med(w, "updates_per_s"), "{:,.0f}"), fmt(cpu),
                fmt(med(k, "rps"), "{:,.0f}"), fmt(kcpu, "{:.2f}"), fmt(ratio, "{:.2f}"),
                (fmt(pairs[0], "{:.2f}") + "–" + fmt(pairs[-1], "{:.2f}")) if pairs else "-",
                cell,
                fmt(med(w, "connections"), "{:.0f}") + " / " + fmt(med(w, "handshakes"), "{:.0f}")
                + " / " + fmt(med(w, "requests"), "{:,.0f}"),
                fmt(med(k, "connections"), "{:.0f}") + " / " + fmt(med(k, "handshakes"), "{:.0f}")
                + " / " + fmt(med(k, "requests"), "{:,.0f}")])
    md += table(["in flight / wrk -c", "scheme", "runs", "worker updates/s",
                 "worker CPU µs/update", "wrk requests/s", "wrk CPU µs/request",
                 "ratio worker/wrk", "ratio per run (min–max)", f"HTTPS ratio ≤ {RATIO_TLS}",
                 "worker connections / handshakes / requests",
                 "wrk connections / handshakes / requests"], body)
    md += ["", "Every run:", ""]
    md += table(["run", "in flight", "scheme", "client", "CPU µs per update/request",
                 "updates or requests/s", "connections", "TLS handshakes", "requests"],
                [[r["run"], r["in_flight"], "HTTPS" if r["mode"] == "tls" else "HTTP",
                  r["kind"], fmt(r["cpu_us"], "{:.2f}"),
                  fmt(r.get("updates_per_s") or r.get("rps"), "{:,.0f}"),
                  r["connections"], r["handshakes"], r["requests"]]
                 for r in sorted(meas, key=lambda r: (r["in_flight"], r["run"], r["mode"],
                                                      r["kind"]))])
    md += ["", "Targets:", ""]
    md += table(["target", "result", "measured"],
                [[d, "PASS" if ok else "**MISS**", how] for d, ok, how in verdicts])
    return md, verdicts


SKELETON = """{begin}
## HTTPS

Scenario 3 (unlimited) over plain HTTP and over HTTPS side by side:
`tests/bench/tls.sh` (or `tests/bench/run.sh --tls`) writes the tables
between the `https-tables` markers with `--out docs/benchmarks.md`; the text
around them is kept.

{tb}
{te}
{end}
"""


def cmd_report(a):
    rows = []
    with open(a[0], encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    md, verdicts = build(rows)
    print("\n".join(md))
    missed = sum(1 for _, ok, _ in verdicts if not ok)
    print(f"{len(verdicts) - missed} targets met, {missed} missed")
    if "--md" not in a:
        return 0
    path = a[a.index("--md") + 1]
    try:
        with open(path, encoding="utf-8") as f:
            old = f.read()
    except OSError:
        old = ""
    i, j = old.find(SECTION_BEGIN), old.find(SECTION_END)
    if not 0 <= i < j:
        old = old.rstrip("\n") + "\n\n" + SKELETON.format(
            begin=SECTION_BEGIN, end=SECTION_END, tb=TABLES_BEGIN, te=TABLES_END)
        i, j = old.find(SECTION_BEGIN), old.find(SECTION_END)
    ti, tj = old.find(TABLES_BEGIN, i, j), old.find(TABLES_END, i, j)
    if not 0 <= ti < tj:
        sys.exit(f"tls.py: {path}: the HTTPS section has no {TABLES_BEGIN} ... {TABLES_END}")
    new = old[:ti + len(TABLES_BEGIN)] + "\n" + "\n".join(md) + "\n" + old[tj:]
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)
    print(f"tables written into {path}")
    return 0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    fn = {"row": cmd_row, "line": cmd_line, "report": cmd_report}.get(sys.argv[1])
    if not fn:
        sys.exit(__doc__)
    sys.exit(fn(sys.argv[2:]) or 0)


if __name__ == "__main__":
    main()
