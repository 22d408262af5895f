#!/usr/bin/env python3
"""Checks for the integration tests, over topic dumps (`cxonectl topic dump`,
one JSON object per message: topic, partition, offset, key, value, headers).

  check.py outcomes --source SRC --results RES [--exactly-once] [--max-failed N]
                    [--max-rejected N] [--expect-rejected N] [--max-duplicates N]
  check.py contacts --source SRC --results RES --sim URL
  check.py dlq --results RES --dlq DLQ
  check.py audit --audit AUD --source SRC
  check.py nosecret FILE... --secret S [--secret S2]
Every check prints what it measured and exits 1 on the first violation.
"""
import argparse
import collections
import json
import sys
import http.client
import urllib.parse


def load(path):
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{n}: not JSON: {e}")
    return out


def value_json(msg):
    v = msg.get("value")
    if isinstance(v, (dict, list)):
        return v
    try:
        return json.loads(v)
    except (TypeError, json.JSONDecodeError):
        return None


def die(msg):
    print("check: FAIL: " + msg)
    sys.exit(1)


def outcomes_by_source(results):
    by = collections.defaultdict(list)
    for m in results:
        o = value_json(m)
        if not isinstance(o, dict) or "source" not in o:
            die(f"result at {m.get('partition')}/{m.get('offset')} is not an outcome: {m.get('value')!r}")
        s = o["source"]
        by[(s["topic"], s["partition"], s["offset"])].append(o)
    return by


def cmd_outcomes(a):
    src = load(a.source)
    res = load(a.results)
    by = outcomes_by_source(res)
    wanted = {(m["topic"], m["partition"], m["offset"]) for m in src}
    missing = [k for k in wanted if k not in by]
    extra = [k for k in by if k not in wanted]
    dups = {k: v for k, v in by.items() if len(v) > 1}
    final = collections.Counter()
    for k in wanted:
        if k in by:
            # the last outcome of a source offset is the one that counts
            final[by[k][-1]["status"]] += 1
    print(f"check: {len(src)} requests, {len(res)} outcomes, {len(missing)} missing, "
          f"{len(dups)} with more than one outcome, statuses {dict(final)}")
    for o in res:
        v = value_json(o)
        for field in ("type", "status", "httpStatus", "attempts", "error", "batchId",
                      "correlationId", "source", "latencyMs", "finishedAt"):
            if field not in v:
                die(f"outcome lacks {field}: {v}")
        if v["status"] not in ("succeeded", "rejected", "failed"):
            die(f"bad status: {v}")
        if v["status"] == "succeeded" and v["error"] is not None:
            die(f"succeeded with an error: {v}")
        if v["status"] != "succeeded" and not v["error"]:
            die(f"{v['status']} without an error text: {v}")
    if missing:
        die(f"{len(missing)} requests have no outcome, e.g. {sorted(missing)[:5]}")
    if extra:
        die(f"{len(extra)} outcomes for unknown sources, e.g. {extra[:5]}")
    extra_outcomes = sum(len(v) - 1 for v in dups.values())
    print(f"check: duplicate outcomes (beyond one per source offset): {extra_outcomes}")
    if a.max_duplicates is not None and extra_outcomes > a.max_duplicates:
        die(f"{extra_outcomes} duplicate outcomes, more than {a.max_duplicates}")
    if a.exactly_once and dups:
        k = next(iter(dups))
        die(f"{len(dups)} requests have more than one outcome, e.g. {k}: {dups[k]}")
    if a.max_failed is not None and final["failed"] > a.max_failed:
        die(f"{final['failed']} failed, more than {a.max_failed}")
    if a.max_rejected is not None and final["rejected"] > a.max_rejected:
        die(f"{final['rejected']} rejected, more than {a.max_rejected}")
    if a.expect_rejected is not None and final["rejected"] != a.expect_rejected:
        die(f"{final['rejected']} rejected, expected {a.expect_rejected}")
    print("check: outcomes OK")


def cmd_contacts(a):
    """The simulator holds, for every contact, the merge of its succeeded
    updates applied in offset order: the last value produced wins."""
    src = sorted(load(a.source), key=lambda m: (m["partition"], m["offset"]))
    by = outcomes_by_source(load(a.results))
    expect = {}
    for m in src:
        k = (m["topic"], m["partition"], m["offset"])
        outs = by.get(k, [])
        if not outs or outs[-1]["status"] != "succeeded":
            continue
        v = value_json(m)
        cid = v["contactId"]
        fields = expect.setdefault(cid, {})
        for f, val in v.items():
            if f != "contactId" and isinstance(val, str) and val != "":
                fields[f] = val
    bad = 0
    u = urllib.parse.urlsplit(a.sim)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)  # one keep-alive connection
    for cid, fields in expect.items():
        conn.request("GET", f"/_sim/contacts/{cid}")
        got = json.loads(conn.getresponse().read())
        if got.get("fields") != fields:
            bad += 1
            if bad <= 5:
                print(f"check: contact {cid}: simulator holds {got.get('fields')}, expected {fields}")
    print(f"check: {len(expect)} contacts compared with the simulator, {bad} differ")
    if bad:
        die("the simulator does not hold the last value produced")
    print("check: contacts OK")


def cmd_dlq(a):
    by = outcomes_by_source(load(a.results))
    dlq = load(a.dlq)
    seen = set()
    for m in dlq:
        h = m.get("headers") or {}
        for need in ("dlq-reason", "dlq-status", "dlq-http-status", "dlq-source-topic",
                     "dlq-source-partition", "dlq-source-offset", "dlq-attempts"):
            if need not in h:
                die(f"DLQ record lacks header {need}: {m}")
        seen.add((h["dlq-source-topic"], int(h["dlq-source-partition"]), int(h["dlq-source-offset"])))
    want = {k for k, v in by.items() if v[-1]["status"] != "succeeded"}
    missing = want - seen
    print(f"check: {len(want)} rejected/failed requests, {len(dlq)} DLQ records, {len(missing)} without a copy")
    if missing:
        die(f"no DLQ copy for {sorted(missing)[:5]}")
    print("check: dlq OK")


def strings_in(v):
    """Every string anywhere in a decoded JSON value (keys included)."""
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings_in(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings_in(x)


def cmd_audit(a):
    src = load(a.source)
    values = set()
    for m in src:
        v = value_json(m)
        if isinstance(v, dict):
            for f, val in v.items():
                if f != "contactId" and isinstance(val, str) and len(val) >= 4:
                    values.add(val)
    aud = load(a.audit)
    for m in aud:
        v = value_json(m)
        for need in ("at", "action", "worker", "source"):
            if need not in v:
                die(f"audit event lacks {need}: {v}")
        for f in v.get("fields", []):
            if not isinstance(f, str):
                die(f"audit fields must be names: {v}")
        leaked = [x for x in strings_in(v) if x in values]
        if leaked:
            die(f"audit event carries a field value {leaked[0]!r}: {v}")
    print(f"check: {len(aud)} audit events, none carries a field value")


def cmd_nosecret(a):
    for path in a.files:
        with open(path, "rb") as f:
            data = f.read()
        for s in a.secret:
            if s and s.encode() in data:
                die(f"{path} contains a secret")
    print(f"check: {len(a.files)} files, no secret found")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    o = sub.add_parser("outcomes")
    o.add_argument("--source", required=True)
    o.add_argument("--results", required=True)
    o.add_argument("--exactly-once", action="store_true")
    o.add_argument("--max-failed", type=int)
    o.add_argument("--max-rejected", type=int)
    o.add_argument("--expect-rejected", type=int)
    o.add_argument("--max-duplicates", type=int)
    c = sub.add_parser("contacts")
    c.add_argument("--source", required=True)
    c.add_argument("--results", required=True)
    c.add_argument("--sim", required=True)
    d = sub.add_parser("dlq")
    d.add_argument("--results", required=True)
    d.add_argument("--dlq", required=True)
    u = sub.add_parser("audit")
    u.add_argument("--audit", required=True)
    u.add_argument("--source", required=True)
    n = sub.add_parser("nosecret")
    n.add_argument("files", nargs="+")
    n.add_argument("--secret", action="append", default=[])
    a = p.parse_args()
    {"outcomes": cmd_outcomes, "contacts": cmd_contacts, "dlq": cmd_dlq,
     "audit": cmd_audit, "nosecret": cmd_nosecret}[a.cmd](a)


if __name__ == "__main__":
    main()
