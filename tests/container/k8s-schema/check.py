#!/usr/bin/env python3
"""check.py: every Kubernetes object in the given YAML files against
k8s-schema.json (beside this file): its apiVersion/kind is one the schema
knows, every field it sets exists in that API version, required fields are
there, and values have the declared type or one of the allowed values.

    check.py [--schema FILE] MANIFEST.yaml...

Offline and dependency-free but PyYAML: a small validator for the subset of
JSON Schema that extract.mjs writes ($ref, type, const, enum, properties,
required, additionalProperties, items, anyOf). Exit 1 with one line per
problem (file, object, path); 0 with a summary."""
import json
import os
import sys

import yaml

TYPES = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


class Validator:
    def __init__(self, schema):
        self.defs = schema["definitions"]
        self.roots = schema["roots"]

    def resolve(self, s):
        while "$ref" in s:
            s = self.defs[s["$ref"].rsplit("/", 1)[-1]]
        return s

    def errors(self, value, s, where):
        s = self.resolve(s)
        if "anyOf" in s:
            alts = [self.errors(value, a, where) for a in s["anyOf"]]
            if all(alts):
                return min(alts, key=len)
            return []
        if "const" in s and value != s["const"]:
            return [f"{where}: {value!r} is not {s['const']!r}"]
        if "enum" in s and value not in s["enum"]:
            return [f"{where}: {value!r} is not one of {', '.join(map(repr, s['enum']))}"]
        if "type" in s:
            types = s["type"] if isinstance(s["type"], list) else [s["type"]]
            if not any(TYPES[t](value) for t in types):
                return [f"{where}: {value!r} is not of type {' or '.join(types)}"]
        out = []
        if isinstance(value, dict) and (s.get("type") == "object" or "properties" in s):
            props = s.get("properties", {})
            for r in s.get("required", []):
                if r not in value:
                    out.append(f"{where}: required field '{r}' missing")
            extra = s.get("additionalProperties", True)
            for k, v in value.items():
                path = f"{where}.{k}"
                if k in props:
                    out += self.errors(v, props[k], path)
                elif extra is False:
                    known = ", ".join(sorted(props)) or "none"
                    out.append(f"{path}: no such field (the fields here: {known})")
                elif isinstance(extra, dict):
                    out += self.errors(v, extra, path)
        if isinstance(value, list) and "items" in s:
            for i, v in enumerate(value):
                out += self.errors(v, s["items"], f"{where}[{i}]")
        return out

    def check(self, obj):
        if not isinstance(obj, dict):
            return ["not a mapping"]
        gvk = f"{obj.get('apiVersion')}/{obj.get('kind')}"
        if gvk not in self.roots:
            return [f"apiVersion {obj.get('apiVersion')!r} kind {obj.get('kind')!r} is not in the schema "
                    f"(it knows {', '.join(sorted(self.roots))}; add it in extract.mjs)"]
        return self.errors(obj, {"$ref": "#/definitions/" + self.roots[gvk]}, "")


def main(argv):
    schema_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "k8s-schema.json")
    if argv[:1] == ["--schema"]:
        schema_path, argv = argv[1], argv[2:]
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    v = Validator(schema)
    problems, n = [], 0
    for path in argv:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        for d in docs:
            n += 1
            name = f"{path}: {d.get('kind', '?')}/{d.get('metadata', {}).get('name', '?')}" \
                if isinstance(d, dict) else path
            problems += [f"{name}: {p.lstrip('.') or '(top)'}" for p in v.check(d)]
    src = ", ".join(f"{k} {val}" for k, val in schema.get("source", {}).items())
    if problems:
        print("\n".join(problems))
        return 1
    print(f"k8s schema: {n} objects in {len(argv)} files valid against {src}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
