#!/usr/bin/env python3
"""Prints the N-th (1-based) `cxonectl ... --wait` summary found in a text:
the line "Succeeded A | Rejected B | Failed C" and the indented lines under
it. The README's sample run and a real run's output go through the same
function, so a test compares what the README shows with what the run printed.
A leading "SECONDS " column (test_local_demo_run's timestamps) is dropped.

  readme_summary.py FILE N
"""
import re
import sys


def summaries(lines):
    out, cur = [], None
    for line in lines:
        line = line.rstrip("\n")
        line = re.sub(r"^[0-9]+\.[0-9] ", "", line)
        if re.fullmatch(r"Succeeded [0-9]+ \| Rejected [0-9]+ \| Failed [0-9]+", line):
            cur = [line]
            out.append(cur)
        elif cur is not None and line.startswith("  "):
            cur.append(line)
        else:
            cur = None
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: readme_summary.py FILE N")
    with open(sys.argv[1], encoding="utf-8") as f:
        found = summaries(f)
    n = int(sys.argv[2])
    if not 1 <= n <= len(found):
        sys.exit(f"{sys.argv[1]}: no summary #{n} ({len(found)} found)")
    print("\n".join(found[n - 1]))


if __name__ == "__main__":
    main()
