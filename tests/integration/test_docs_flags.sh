#!/usr/bin/env bash
# test_docs_flags.sh: the flags docs/cxonectl.md names are the flags
# cxonectl takes, and the other way round.
#
# The help: `cxonectl --help` (global options, and each command's line
# there) and `cxonectl COMMAND --help`. Checked:
#  - every flag in a command's section (in backticks, or on a `cxonectl`
#    line of a code block) is in that command's help or a global option
#    (in a section of no command, such as Exit codes: in some command's);
#    a flag in no help must at least be accepted by the command's parser
#    (a short alias such as -v), which is probed with `COMMAND FLAG --help`;
#  - every `cxonectl ...` line of a code block anywhere in the file (the
#    Examples too) uses flags of the command it runs;
#  - every flag of a command's help is named in its section, and every
#    global option in the file's first section;
#  - `cxone-worker ...` lines use flags of `cxone-worker --help`;
#  - every `cxonectl COMMAND --help` exits 0 with its usage, with no
#    configuration.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

python3 - "$CXW_SRC/docs/cxonectl.md" "$CXW_BIN/cxonectl" "$CXW_BIN/cxone-worker" <<'PY' || fail "docs/cxonectl.md and the help differ (above)"
import re, subprocess, sys

doc_path, ctl, worker = sys.argv[1:4]
FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z][A-Za-z0-9-]*)")
COMMANDS = ["dev-kafka", "contacts import", "schedules import", "results", "dlq list",
            "dlq replay", "topic dump", "doctor"]


def helptext(*args):
    r = subprocess.run(list(args), capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    return (r.stdout + r.stderr).decode()


main = helptext(ctl, "--help")
opts_part = main.split("options:", 1)[1].split("\n\n", 1)[0]
global_flags = set(FLAG.findall(opts_part))
cmd_flags = {}
for c in COMMANDS:
    # The command's lines of the main help: "  <cmd> ..." and the indented lines below.
    m = re.search(r"^  " + re.escape(c) + r"\b.*(?:\n {5,}.*)*", main, re.M)
    own = helptext(ctl, *c.split(), "--help")
    cmd_flags[c] = (set(FLAG.findall(m.group(0))) if m else set()) | set(FLAG.findall(own))
    cmd_flags[c] -= {"-h", "--help"}
worker_flags = set(FLAG.findall(helptext(worker, "--help")))
print(f"global options {sorted(global_flags)}", file=sys.stderr)
problems = []


def accepted(c, flag):
    """The command's parser takes the flag (it is not 'unknown')."""
    r = subprocess.run([ctl, *c.split(), flag, "--help"], capture_output=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    return r.returncode == 0 and b"unknown" not in r.stderr


ALL = set().union(*cmd_flags.values())


def check(where, c, flags):
    for f in sorted(flags):
        if f in global_flags or (f in cmd_flags[c] if c else f in ALL):
            continue
        if c and accepted(c, f):
            print(f"  note: {where}: {f} is accepted by '{c}' but not in its help",
                  file=sys.stderr)
            continue
        problems.append(f"{where}: {f} is no flag of {repr(c) if c else 'cxonectl'}")


def command_of(words):
    """The command a 'cxonectl ...' line runs, after the global options."""
    i = 1
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in ("-c", "--config", "--log-level") else 1
    rest = " ".join(words[i:i + 2])
    for c in sorted(COMMANDS, key=len, reverse=True):
        if rest == c or rest.startswith(c + " "):
            return c
    return None


lines = open(doc_path, encoding="utf-8").read().split("\n")
section, sec_cmd, in_code, seen = "(top)", None, False, {}
for n, line in enumerate(lines, 1):
    where = f"docs/cxonectl.md:{n}"
    if line.lstrip().startswith("```"):  # a fence, also indented in a list
        in_code = not in_code
        continue
    if not in_code and line.startswith("## "):
        section = line[3:].strip()
        sec_cmd = next((c for c in COMMANDS if section == c or section.startswith(c + " ")), None)
        continue
    if in_code:
        text = re.sub(r"^\$ ", "", line.strip())
        words = text.split()
        if words and words[0] == "cxonectl":
            c = command_of(words)
            flags = set(FLAG.findall(text))
            check(where, c, flags)
            seen.setdefault(c or sec_cmd, set()).update(flags)
        elif words and words[0] == "cxone-worker":
            for f in set(FLAG.findall(text)) - worker_flags:
                problems.append(f"{where}: {f} is no flag of cxone-worker")
        continue
    flags = set()
    for code in re.findall(r"`([^`]*)`", line):
        if code.startswith("cxonectl "):  # a command line of its own
            c = command_of(code.split())
            check(where, c, set(FLAG.findall(code)))
            seen.setdefault(c, set()).update(FLAG.findall(code))
        elif " " in code and code.split()[0] not in {c.split()[0] for c in COMMANDS} \
                and not code.startswith("-"):
            pass  # another program's command line (iconv ..., curl ...)
        else:
            flags |= set(FLAG.findall(code))
    check(where, sec_cmd, flags)
    seen.setdefault(sec_cmd, set()).update(flags)

for c in COMMANDS:
    for f in sorted(cmd_flags[c] - seen.get(c, set())):
        problems.append(f"'{c}' takes {f} (its help says so); its section does not name it")
for f in sorted(global_flags - seen.get(None, set())):
    problems.append(f"global option {f} is not named in docs/cxonectl.md's first section")

for p in problems:
    print("  " + p, file=sys.stderr)
print(f"check: {sum(len(v) for v in cmd_flags.values())} command flags, "
      f"{len(global_flags)} global options; {len(problems)} problem(s)", file=sys.stderr)
sys.exit(1 if problems else 0)
PY

# Every command's --help answers as the help: exit 0, its usage, also in a
# bare environment with no configuration (the doctor's own needs a client
# id and secret, its help does not).
for c in "dev-kafka" "contacts import" "schedules import" "results" "dlq list" "dlq replay" \
  "topic dump" "doctor"; do
  rc=0
  # shellcheck disable=SC2086 # the command's words
  env -i PATH="$PATH" "$CXW_BIN/cxonectl" $c --help >"$T/help.out" 2>&1 || rc=$?
  [ "$rc" = 0 ] || fail "cxonectl $c --help: exit $rc: $(cat "$T/help.out")"
  grep -q "usage: cxonectl .*$c" "$T/help.out" || fail "cxonectl $c --help: $(cat "$T/help.out")"
done
log "PASS"
