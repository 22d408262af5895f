#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz harnesses, tests/fuzz/corpus/<harness>/,
from the repository's own inputs: the unit-test fixtures (tests/unit/data),
the integration tests' generators, config/samples, the sample configs and
the JSON examples of docs/ and README.md, plus a few edge cases per parser.
Deterministic: run it again after a fixture changes and commit the result.

  tests/fuzz/make_corpus.py
"""
import csv
import base64
import hashlib
import hmac
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
MAX_SEED = 8192  # bytes; larger sources are cut into their parts or skipped


def read(rel):
    with open(os.path.join(ROOT, rel), "rb") as f:
        return f.read()


def docs_json():
    """Every ```json block of docs/*.md and README.md, one value per line
    group (a block may hold several values)."""
    out = []
    paths = sorted(os.listdir(os.path.join(ROOT, "docs")))
    files = ["docs/" + p for p in paths if p.endswith(".md")] + ["README.md"]
    for rel in files:
        text = read(rel).decode()
        for block in re.findall(r"```json\n(.*?)```", text, re.S):
            dec = json.JSONDecoder()
            s = block.strip()
            while s:
                try:
                    v, end = dec.raw_decode(s)
                except ValueError:
                    break
                out.append(v)
                s = s[end:].strip()
    return out


def compact(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode()


class Corpus:
    def __init__(self, name):
        self.dir = os.path.join(OUT, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.seen = set()

    def add(self, label, data):
        if isinstance(data, str):
            data = data.encode()
        if len(data) > MAX_SEED or data in self.seen:
            return
        self.seen.add(data)
        label = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-")[:40]
        digest = hashlib.sha1(data).hexdigest()[:8]
        with open(os.path.join(self.dir, f"{label}-{digest}"), "wb") as f:
            f.write(data)


DOCS = docs_json()
CSV_SAMPLE = read("config/samples/contacts.csv")
GEN_CONTACTS = subprocess.run(
    [sys.executable, os.path.join(ROOT, "tests/integration/gen_contacts.py"), "6", "3"],
    check=True, capture_output=True).stdout
GEN_SCHEDULES = json.loads(subprocess.run(
    [sys.executable, os.path.join(ROOT, "tests/integration/gen_schedules.py"), "2", "2"],
    check=True, capture_output=True).stdout)


def csv_messages(data):
    """The CSV's rows as contact-update messages (as cxonectl builds them)."""
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    return [{k: v for k, v in r.items() if k} for r in rows]


def contacts():
    c = Corpus("fuzz_contacts")
    for i, v in enumerate(DOCS):
        if isinstance(v, dict) and "contactId" in v and "type" not in v and "at" not in v:
            c.add(f"docs-{i}", compact(v))
            c.add(f"docs-{i}-key", compact(v) + b"\0" + v["contactId"].encode())
    for i, m in enumerate(csv_messages(CSV_SAMPLE)):
        c.add(f"samples-contacts-csv-{i}", compact(m))
    for i, m in enumerate(csv_messages(GEN_CONTACTS)[:3]):
        c.add(f"gen-contacts-{i}", compact(m))
    edge = [
        ("null-field", '{"contactId":"c-1","firstName":null,"email":"a@b.co"}'),
        ("empty-field", '{"contactId":"c-1","firstName":"","lastName":"X"}'),
        ("unknown-field", '{"contactId":"c-1","nickName":"Al"}'),
        ("number-field", '{"contactId":"c-1","firstName":7}'),
        ("escapes", '{"contactId":"c-1","firstName":"A\\"d\\u00e9\\ud83d\\ude00\\n"}'),
        ("utf8", '{"contactId":"c-1","lastName":"Łukasiewicz","email":"jan@żółw.pl"}'),
        ("spaces", ' { "contactId" : "c-1" , "phone" : "+1 555" } '),
        ("dup-key", '{"contactId":"c-1","email":"a@b.co","email":"c@d.co"}'),
        ("bad-id", '{"contactId":"c/1","firstName":"A"}'),
        ("not-object", '["contactId","c-1"]'),
        ("key-mismatch", '{"contactId":"c-1","firstName":"A"}\0c-2'),
        ("bad-email", '{"contactId":"c-1","email":"a@@b"}'),
    ]
    for label, data in edge:
        c.add(label, data)


def schedules():
    c = Corpus("fuzz_schedules")
    for name in sorted(os.listdir(os.path.join(ROOT, "tests/unit/data/schedules"))):
        c.add("unit-" + name, read("tests/unit/data/schedules/" + name))
    for i, v in enumerate(json.loads(read("config/samples/schedules.json"))):
        c.add(f"samples-{i}", compact(v))
    for i, v in enumerate(GEN_SCHEDULES):
        c.add(f"gen-schedules-{i}", compact(v))
    for i, v in enumerate(DOCS):
        for imp in (v if isinstance(v, list) else [v]):
            if isinstance(imp, dict) and "scheduleEntries" in imp:
                c.add(f"docs-{i}", compact(imp))
                c.add(f"docs-{i}-idem", compact(imp) + b"\0imp-2026-03-01")
    for t in ["2026-03-02T08:00:00+01:00", "2026-02-29T08:00:00Z",
              "2024-02-29t23:59:59.999999z", "0000-01-01T00:00:00-23:59",
              "9999-12-31T23:59:59.9+14:00", "2026-03-02T24:00:00Z",
              "2026-03-02T08:00:60Z", "2026-03-02T08:00:00"]:
        c.add("time", t)


def csvin():
    c = Corpus("fuzz_csvin")
    c.add("samples-contacts", CSV_SAMPLE)
    c.add("unit-bom-crlf", read("tests/unit/data/csv/bom_crlf.csv"))
    c.add("gen-contacts", GEN_CONTACTS)
    edge = [
        ("quoted", 'a,"b,c","d ""e"""\n'),
        ("embedded-newline", 'id,note\n1,"two\nlines"\n2,x'),
        ("cr-only", "a,b\r1,2\r"),
        ("crlf-empty-lines", "a,b\r\n\r\n\r\n1,2\r\n"),
        ("bad-quote", 'a,b"c,d\n1,2\n'),
        ("text-after-quote", '"a"b,c\n1,2\n'),
        ("unterminated", 'a,b\n"1,2\n'),
        ("nul", b"a,\0b\n1,2\n"),
        ("bom-only", b"\xef\xbb\xbf"),
        ("many-fields", ",".join(["x"] * 300) + "\n1\n"),
    ]
    for label, data in edge:
        c.add(label, data)


def config():
    c = Corpus("fuzz_config")
    envs = [b"", b"\0kafka-1:9092\0g1\0https://api.example.test\0\0my-client\0s3\0hook\0" +
            b"50\0127.0.0.1:9464",
            b"\0\0\0http://[::1]:8080/\0http://t/oauth\0\0\0\0abc\0:0"]
    files = ["tests/unit/data/config/" + n
             for n in sorted(os.listdir(os.path.join(ROOT, "tests/unit/data/config")))]
    files += ["config/cxone-worker.conf", "deploy/docker/worker.conf"]
    for i, rel in enumerate(files):
        text = read(rel)
        c.add(os.path.basename(rel), text + envs[i % len(envs)])
    c.add("ctl-good", b"@" + read("tests/unit/data/config/good.conf"))
    c.add("include", '@include "/nonexistent.conf"\nkafka = { group_id = "x"; };\n')
    c.add("lists", 'cxone = { contacts = { fields = ["a", "b"]; }; };\n'
                   'kafka = { properties = ("a=b", "c="); };\n')
    c.add("env-only", b"\0k:1\0\0http://x\0\0id\0sec\0\0abc\0")
    # the variables after the first ten (fuzz_config.c's env_names order):
    # the cxone profile's keys, the peer key, exactly-once, the worker id
    c.add("env-profile", b"\0k:1\0g\0\0\0\0\0\0\0\0\0true\0peer-key\0\0w-1\0true\0"
                         b"cxone\0https://cxone.example.test\0tenant-1\0ak-id\0ak-secret\0"
                         b"\0https://api-de-na1.example.test\0/nonexistent/ca.pem\0"
                         b"address-book\01001")


def retry_after():
    c = Corpus("fuzz_retry_after")
    values = ["120", "0", " 7 ", "\t1\t", "999999999999999999999999",
              "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
              "Sun Nov  6 08:49:37 1994", "Sat, 21 Nov 2026 07:56:40 GMT",
              "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 29 Feb 2027 00:00:00 GMT",
              "1.5", "-1", "", "Sun, 06 Nov 1994 08:49:37 UTC"]
    for v in values:
        c.add("value", v)
    for now, cap in [(0, 0), (-1, 1 << 62), ((1 << 63) - 1, (1 << 63) - 1),
                     (-(1 << 63), -5)]:
        c.add("clock", b"Sat, 21 Nov 2026 07:56:40 GMT\0" + struct.pack(">qq", now, cap))
        c.add("clock", b"3600\0" + struct.pack(">qq", now, cap))


def token():
    c = Corpus("fuzz_token")
    good = [{"access_token": "tok-ABC", "expires_in": 3600, "token_type": "Bearer"},
            {"access_token": "tok-2"}, {"access_token": "x", "expires_in": "10"},
            {"access_token": "t", "expires_in": 1e300},
            {"access_token": "t", "expires_in": 0.0001},
            {"access_token": "a b", "expires_in": 5},
            {"access_token": "", "expires_in": 5},
            {"access_token": "t", "token_type": "mac"},
            {"access_token": "t", "expires_in": " 5"},
            {"access_token": 5}]
    for i, v in enumerate(good):
        c.add(f"answer-{i}", compact(v))
    c.add("dup", '{"access_token":"a","access_token":"b"}')
    c.add("not-json", "access_token=abc&expires_in=3600")
    c.add("array", '["access_token"]')
    for i, v in enumerate([{"error": "invalid_client",
                            "error_description": "Client authentication failed"},
                           {"error": "x\u0001\u00ffy"}, {"error": 5}]):
        c.add(f"error-{i}", b"!" + compact(v))


WEBHOOK_SECRET = b"whsec-fuzz-1f0c"  # as fuzz_webhook.c
WEBHOOK_NOW = 1795000000


def webhook():
    c = Corpus("fuzz_webhook")
    bodies = [b'{"eventType":"WFM_SCHEDULE_IMPORT_COMPLETED","jobId":"job-1",'
              b'"status":"COMPLETED"}', b""]
    for i, v in enumerate(DOCS):
        if isinstance(v, dict) and "jobId" in v:
            bodies.append(compact(v))
    for i, body in enumerate(bodies):
        for ts in [str(WEBHOOK_NOW), str(WEBHOOK_NOW - 300), "0" + str(WEBHOOK_NOW)]:
            mac = hmac.new(WEBHOOK_SECRET, ts.encode() + b"." + body, "sha256")
            sig = b"sha256=" + mac.hexdigest().encode()
            c.add(f"signed-{i}", ts.encode() + b"\0" + sig + b"\0" + body)
        c.add(f"upper-{i}", str(WEBHOOK_NOW).encode() + b"\0sha256=" +
              hmac.new(WEBHOOK_SECRET, str(WEBHOOK_NOW).encode() + b"." + body,
                       "sha256").hexdigest().upper().encode() + b"\0" + body)
    c.add("malformed", b"17950x0000\0sha256=zz\0{}")
    c.add("missing-sig", b"1795000000")
    c.add("long-ts", b"1234567890123\0sha256=" + b"0" * 64 + b"\0{}")


def peers():
    c = Corpus("fuzz_peers")
    for i, v in enumerate(DOCS):
        if isinstance(v, dict) and "partitions" in v:
            c.add(f"docs-{i}", compact(v))
    base = {"worker": "w1", "partitions": 6, "total": 12, "busy": False,
            "at": 1795244401498}
    c.add("idle", compact(base))
    c.add("polls-trip", compact(dict(base, trip={
        "class": "polls", "sent": 60000, "from": 0, "until": 3660000,
        "anchored": False})))
    c.add("schedules-count", compact(dict(base, count={
        "class": "schedules", "trip": 60000, "accepted": 1000000000, "first": -1})))
    c.add("long-worker", compact(dict(base, worker='"\\' * 64)))
    c.add("extra-member", compact(dict(base, version=2)))
    c.add("partitions-over-total", compact(dict(base, partitions=13)))


def jsonw():
    c = Corpus("fuzz_jsonw")
    for i, v in enumerate(DOCS[:8]):
        c.add(f"docs-{i}", compact(v))
    for label, data in [
        ("ascii", b"firstName\0Ada"), ("controls", bytes(range(0, 32)) + b'"\\/\x7f'),
        ("utf8", "Łódź 😀 \u2028".encode()),
        ("overlong", b"\xc0\xaf\xe0\x80\xaf\xf0\x80\x80\xaf"),
        ("surrogate", b"\xed\xa0\x80\xed\xbf\xbf"),
        ("above-max", b"\xf4\x90\x80\x80\xf5\x80\x80\x80"),
        ("truncated", b"ab\xe2\x82"), ("lone-continuation", b"\x80\xbf"),
        ("max", b"\xf4\x8f\xbf\xbf\xef\xbf\xbf"), ("deep", b"x" * 19),
    ]:
        c.add(label, data)


def docs_spans(rel):
    """The JSON objects written inline (`{...}`) in a doc, e.g. the answers
    of docs/cxone-sim.md's tables, as bytes (placeholders such as … kept)."""
    return [m.encode() for m in re.findall(r"`(\{[^`]*\})`", read(rel).decode())]


def c_json_literals(rel):
    """The JSON objects of a C test's string literals ("{\"status\":...}")."""
    out = []
    for m in re.findall(r'"(\{(?:[^"\\]|\\.)*\})"', read(rel).decode()):
        out.append(m.replace('\\"', '"').replace("\\\\", "\\").encode())
    return out


JOB_FIXTURES = (docs_spans("docs/cxone-sim.md") +
                c_json_literals("tests/unit/worker/test_worker_schedules.c") +
                c_json_literals("tests/unit/test_schedules.c") +
                c_json_literals("tests/unit/test_webhook.c"))


def job_answer():
    c = Corpus("fuzz_job_answer")
    for i, v in enumerate(JOB_FIXTURES):
        if b'"status"' in v or b'"error"' in v:
            c.add(f"fixture-{i}", v)
    for label, v in [
        ("running", {"jobId": "job-1", "status": "IN_PROGRESS",
                     "createdAt": "2026-01-01T00:00:00.000Z"}),
        ("completed", {"jobId": "job-1", "status": "COMPLETED",
                       "entriesImported": 3}),
        ("failed-object", {"jobId": "job-1", "status": "FAILED", "error": {
            "code": "SCHEDULE_CONFLICT", "message": "agent a-1 overlaps"}}),
        ("failed-string", {"status": "FAILED", "error": "no capacity"}),
        ("failed-escapes", {"status": "FAILED", "error": {
            "message": "\u001b[2J\u001b]0;x\u0007\r\n\u007f\u009b\u00e9 done"}}),
        ("status-escapes", {"status": "\u001b[31mRED\n"}),
        ("status-long", {"status": "S" * 40}),
        ("message-long", {"status": "FAILED", "error": {"message": "m" * 600}}),
        ("wrong-types", {"status": 1, "error": {"message": 2}}),
        ("message-type", {"status": "FAILED", "error": {"message": ["x"]}}),
        ("null", {"status": None, "error": None}),
    ]:
        c.add(label, compact(v))
    c.add("dup", '{"status":"IN_PROGRESS","status":"COMPLETED"}')
    c.add("nul", '{"status":"COMPLETED\\u0000"}')
    c.add("array", '["status","COMPLETED"]')
    c.add("empty", b"")


def webhook_body():
    c = Corpus("fuzz_webhook_body")
    for i, v in enumerate(JOB_FIXTURES):
        if b'"jobId"' in v:
            c.add(f"fixture-{i}", v)
    for i, v in enumerate(DOCS):
        if isinstance(v, dict) and "jobId" in v:
            c.add(f"docs-{i}", compact(v))
    ev = "WFM_SCHEDULE_IMPORT_COMPLETED"
    for label, v in [
        ("completed", {"eventType": ev, "jobId": "job-1", "status": "COMPLETED"}),
        ("failed", {"eventType": ev, "jobId": "job-2", "status": "FAILED"}),
        ("no-event", {"jobId": "job-3", "status": "COMPLETED"}),
        ("other-event", {"eventType": "WFM_OTHER", "jobId": "j", "status": "x"}),
        ("event-type", {"eventType": 5, "jobId": "j", "status": "COMPLETED"}),
        ("status-escapes", {"jobId": "j", "status": "\u001b]0;x\u0007\r\n"}),
        ("status-15", {"jobId": "j", "status": "FIFTEEN_BYTES_X"}),
        ("status-16", {"jobId": "j", "status": "SIXTEEN_BYTES_XY"}),
        ("id-127", {"jobId": "a" * 127, "status": "FAILED"}),
        ("id-128", {"jobId": "a" * 128, "status": "FAILED"}),
        ("id-bad", {"jobId": "job/../1", "status": "FAILED"}),
        ("wrong-types", {"jobId": 1, "status": ["COMPLETED"]}),
    ]:
        c.add(label, compact(v))
    c.add("dup", '{"jobId":"j","status":"FAILED","status":"COMPLETED"}')
    c.add("nul", '{"jobId":"j","status":"COMPLETED\\u0000"}')
    c.add("empty", b"")


def discovery():
    c = Corpus("fuzz_discovery")
    iss = "https://login.cxone.test"
    for label, v in [
        ("openid", {"issuer": iss, "token_endpoint": iss + "/auth/token"}),
        ("openid-slash", {"issuer": iss + "/", "token_endpoint": iss + "/auth/token"}),
        ("openid-elsewhere", {"issuer": iss, "token_endpoint": "https://evil.test/t"}),
        ("openid-port", {"issuer": iss, "token_endpoint": iss + ":8443/t"}),
        ("openid-dots", {"issuer": iss, "token_endpoint": iss + "/a/../t"}),
        ("openid-user", {"issuer": iss, "token_endpoint": "https://u@login.cxone.test/t"}),
    ]:
        c.add(label, b"o" + compact(v))
    for label, v in [
        ("cxone", {"api_endpoint": "https://api-c1.cxone.test", "area": "na1",
                   "domain": "cxone.test", "cluster": "C1"}),
        ("cxone-dfo", {"api_endpoint": "https://127.0.0.1:8443", "area": "na1",
                       "domain": "localhost:8443", "dfo_endpoint": "https://127.0.0.1:9443"}),
        ("cxone-bad-area", {"api_endpoint": "https://a.test", "area": "na1.evil",
                            "domain": "d.test"}),
        ("cxone-ipv6", {"api_endpoint": "https://[::1]:8443/x", "area": "a", "domain": "d"}),
    ]:
        c.add(label, b"c" + compact(v))

    def b64(d):
        return base64.urlsafe_b64encode(d).rstrip(b"=")

    for label, payload in [("jwt", b'{"tenantId":"T-1","iss":"x"}'),
                           ("jwt-no-claim", b'{"iss":"x"}'),
                           ("jwt-number", b'{"tenantId":5}')]:
        c.add(label, b"j" + b64(b'{"alg":"none"}') + b"." + b64(payload) + b".c2ln")
    c.add("jwt-padded", b"j" + base64.urlsafe_b64encode(b'{"a":1}') + b"." +
          base64.urlsafe_b64encode(b'{"tenantId":"T-22"}') + b".x")
    for label, u in [("url", "https://h.test:443/p"), ("url-v6", "https://[::1]/"),
                     ("url-http", "http://127.0.0.1:8080"), ("url-pct", "https://h/%2e%2e/")]:
        c.add(label, "u" + u)


for make in (contacts, schedules, csvin, config, retry_after, token, webhook, peers,
             jsonw, job_answer, webhook_body, discovery):
    make()
for name in sorted(os.listdir(OUT)):
    print(f"{name}: {len(os.listdir(os.path.join(OUT, name)))} seeds")
