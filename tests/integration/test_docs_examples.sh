#!/usr/bin/env bash
# ctest-label: asan
# test_docs_examples.sh: every example in docs/*.md says what the code does.
#
# An example is marked by an HTML comment on the line before its fence:
#
#   <!-- example: KIND [accepted|rejected] [key=KEY] [error="TEXT"] [path=/PATH] -->
#
# KIND, and what is checked for each JSON value in the block:
#  - contact: the worker's contact decoder (tests/tools/docs_example.c, the
#    default configuration; key=KEY is the message key) accepts or rejects
#    it, as the marker says; error="TEXT": the rejection is exactly TEXT.
#  - schedule: the schedule-import decoder and validator, likewise.
#  - schedules-file: a cxonectl schedules import file (an array, or one
#    object); every element as a schedule.
#  - budget: the budget report decoder, likewise.
#  - outcome, audit: the outcome / audit writer, given the example's values,
#    writes exactly this record (members, order, types, which appear).
#  - sim-answer path=/PATH: a running cxone-sim's GET /PATH answers with
#    the same member names.
#  - config: the block is a libconfig fragment that
#    `cxone-worker --check-config` accepts.
#  - json: every value in the block parses (no duplicate member names).
# Every ```json block must be marked, so no JSON example goes unchecked.
# A block may hold several JSON values, one after the other.
# The test also checks itself: a wrong verdict on a known example fails.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

TOOL="$CXW_BIN/docs_example"
[ -x "$TOOL" ] || fail "$TOOL not built"

# The checker's own check: it must see a bad example as bad.
printf '%s' '{"contactId":"c-1","email":"x"}' | "$TOOL" contact >"$T/self.out" && fail "docs_example accepted a bad e-mail"
grep -qx "rejected: field 'email' is not a valid e-mail address" "$T/self.out" || fail "docs_example: $(cat "$T/self.out")"

start_sim

python3 - "$CXW_SRC/docs" "$TOOL" "$CXW_BIN/cxone-worker" "$CXONE_BASE_URL" "$T" <<'PY' || fail "docs examples drifted (above)"
import glob, json, os, re, shlex, subprocess, sys, urllib.request

docs, tool, worker, sim, tmp = sys.argv[1:6]
MARK = re.compile(r"^<!--\s*example:\s*(.*?)\s*-->\s*$")
KINDS = {"contact", "schedule", "schedules-file", "budget", "outcome", "audit",
         "sim-answer", "config", "json"}
problems, checked = [], 0


def no_dups(pairs):
    names = [k for k, _ in pairs]
    dup = {k for k in names if names.count(k) > 1}
    if dup:
        raise ValueError(f"duplicate member name(s) {sorted(dup)}")
    return dict(pairs)


def values(text):
    """The JSON values of a block, each as (its exact text, parsed)."""
    dec, i, out = json.JSONDecoder(object_pairs_hook=no_dups), 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        v, end = dec.raw_decode(text, i)
        out.append((text[i:end], v))
        i = end


def run(kind, text, key=None):
    args = [tool, kind] + ([key] if key else [])
    r = subprocess.run(args, input=text.encode(), capture_output=True, timeout=30)
    if r.returncode == 2:
        raise RuntimeError(f"docs_example failed: {r.stderr.decode().strip()}")
    return r.returncode, r.stdout.decode().strip()


def verdict(where, kind, text, opts, key=None):
    rc, out = run(kind, text, key)
    want = opts.get("verdict")
    last = out.splitlines()[-1] if out else ""
    if want == "accepted" and rc != 0:
        problems.append(f"{where}: the text says accepted, the {kind} decoder says {last}")
    elif want == "rejected":
        if rc == 0:
            problems.append(f"{where}: the text says rejected, the {kind} decoder accepts it")
        elif "error" in opts and last != "rejected: " + opts["error"]:
            problems.append(f"{where}: the text says rejected with '{opts['error']}', "
                            f"the decoder says {last}")


def check(where, opts, body):
    global checked
    kind = opts["kind"]
    if kind == "config":
        path = os.path.join(tmp, "example.conf")
        with open(path, "w") as f:
            f.write(body)
        env = dict(os.environ, CXONE_CLIENT_ID="docs", CXONE_CLIENT_SECRET="docs")
        r = subprocess.run([worker, "--check-config", "-c", path], capture_output=True,
                           env=env, timeout=30)
        if r.returncode != 0:
            problems.append(f"{where}: --check-config refuses the fragment: "
                            f"{(r.stdout + r.stderr).decode().strip()}")
        checked += 1
        return
    try:
        vals = values(body)
    except ValueError as e:
        problems.append(f"{where}: not valid JSON: {e}")
        return
    if not vals:
        problems.append(f"{where}: no JSON value in the block")
    for text, v in vals:
        checked += 1
        if kind in ("contact", "schedule", "budget"):
            if opts.get("verdict") not in ("accepted", "rejected"):
                problems.append(f"{where}: a {kind} example must say accepted or rejected")
                return
            verdict(where, kind, text, opts, opts.get("key") if kind == "contact" else None)
        elif kind == "schedules-file":
            elems = v if isinstance(v, list) else [v]
            for i, e in enumerate(elems):
                verdict(f"{where} #{i}", "schedule", json.dumps(e), opts)
        elif kind in ("outcome", "audit"):
            rc, out = run(kind, text)
            if rc != 0:
                problems.append(f"{where}: the {kind} writer does not write this record; {out}")
        elif kind == "sim-answer":
            with urllib.request.urlopen(sim + opts["path"], timeout=10) as r:
                real = json.load(r)
            if set(real) != set(v):
                problems.append(f"{where}: GET {opts['path']} answers members "
                                f"{sorted(set(real) - set(v))} not in the example, and the "
                                f"example has {sorted(set(v) - set(real))} the sim does not")


for md in sorted(glob.glob(os.path.join(docs, "*.md"))):
    lines = open(md, encoding="utf-8").read().split("\n")
    name = os.path.relpath(md, os.path.dirname(docs))
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(\S*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        start, lang = i, fence.group(1)
        end = start + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        body = "\n".join(lines[start + 1:end]) + "\n"
        where = f"{name}:{start + 1}"
        mark = MARK.match(lines[start - 1]) if start > 0 else None
        i = end + 1
        if not mark:
            if lang == "json":
                problems.append(f"{where}: a JSON example without an <!-- example: ... --> mark")
            continue
        words = shlex.split(mark.group(1))
        opts = {"kind": words[0] if words else ""}
        for w in words[1:]:
            if w in ("accepted", "rejected"):
                opts["verdict"] = w
            elif "=" in w:
                k, v = w.split("=", 1)
                opts[k] = v
            else:
                problems.append(f"{where}: unknown word '{w}' in the mark")
        if opts["kind"] not in KINDS:
            problems.append(f"{where}: unknown example kind '{opts['kind']}'")
            continue
        check(where, opts, body)

for p in problems:
    print("  " + p, file=sys.stderr)
print(f"check: {checked} examples in docs/*.md, {len(problems)} problem(s)", file=sys.stderr)
sys.exit(1 if problems or checked == 0 else 0)
PY

# The docs stand alone: nothing shipped points at a file the project does
# not hold (DESIGN.md and STYLE.md are no files of it).
absent="DESIGN""\.md|STYLE""\.md"
if grep -rnE "$absent" "$CXW_SRC/README.md" "$CXW_SRC/docs" "$CXW_SRC/deploy" "$CXW_SRC/config" \
  "$CXW_SRC/scripts" "$CXW_SRC/src" "$CXW_SRC/include" >"$T/absent.out"; then
  fail "points at a file the project does not hold: $(cat "$T/absent.out")"
fi
log "PASS"
