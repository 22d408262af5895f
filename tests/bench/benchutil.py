"""What the benchmark reporters (bench.py, scale.py, batch.py, eos.py) share:
reading a file of JSON lines, and writing a report's tables into their
section of docs/benchmarks.md."""
import json


def load_json_lines(path, missing_ok=False):
    """The JSON objects of path, one a line; blank and non-JSON lines are
    skipped; a file that cannot be read is [] when missing_ok."""
    out = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        out.append(json.loads(line))
                    except json.JSONDecodeError:
                        pass
    except OSError:
        if not missing_ok:
            raise
    return out


def write_tables(md, lines, markers, title):
    """Puts lines between markers' tables_begin and tables_end in md; where
    md has none, appends a new section (section_begin, "## " + title, the
    tables, section_end). markers: (section_begin, section_end,
    tables_begin, tables_end)."""
    section_begin, section_end, tables_begin, tables_end = markers
    try:
        with open(md, encoding="utf-8") as f:
            old = f.read()
    except OSError:
        old = ""
    body = tables_begin + "\n" + "\n".join(lines) + "\n" + tables_end
    i, j = old.find(tables_begin), old.find(tables_end)
    if 0 <= i < j:
        new = old[:i] + body + old[j + len(tables_end):]
    else:
        new = (old.rstrip("\n") + "\n\n" + section_begin + f"\n## {title}\n\n"
               + body + "\n" + section_end + "\n")
    with open(md, "w", encoding="utf-8") as f:
        f.write(new)
