// extract.mjs: writes k8s-schema.json, the JSON Schema of the Kubernetes
// objects deploy/k8s/ uses, for the offline check in
// tests/integration/test_deploy_files.sh (tests/container/k8s-schema/check.py).
//
// Source: the npm packages kubernetes-models (the Kubernetes API, generated
// by its authors from Kubernetes' published OpenAPI spec) and
// @kubernetes-models/keda (KEDA's CRDs). Their type declarations (.d.ts)
// name every field of every type, whether it is required, and its type;
// this reads them (no TypeScript compiler: the declarations are generated,
// with a small regular grammar) and keeps the types reachable from ROOTS.
//
//   tests/container/k8s-schema/update.sh     npm-installs the packages, runs this
//
// node extract.mjs NODE_MODULES_DIR OUT.json
import fs from "node:fs";
import path from "node:path";

const ROOTS = {
  // apiVersion/kind: the .d.ts file (under node_modules) and its interface
  "v1/ConfigMap": ["kubernetes-models/v1/ConfigMap.d.ts", "IConfigMap"],
  "v1/Secret": ["kubernetes-models/v1/Secret.d.ts", "ISecret"],
  "v1/Service": ["kubernetes-models/v1/Service.d.ts", "IService"],
  "apps/v1/Deployment": ["kubernetes-models/apps/v1/Deployment.d.ts", "IDeployment"],
  "batch/v1/Job": ["kubernetes-models/batch/v1/Job.d.ts", "IJob"],
  "policy/v1/PodDisruptionBudget": ["kubernetes-models/policy/v1/PodDisruptionBudget.d.ts", "IPodDisruptionBudget"],
  "networking.k8s.io/v1/NetworkPolicy": [
    "kubernetes-models/networking.k8s.io/v1/NetworkPolicy.d.ts",
    "INetworkPolicy",
  ],
  "keda.sh/v1alpha1/ScaledObject": ["@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject.d.ts", "IScaledObject"],
  "keda.sh/v1alpha1/TriggerAuthentication": [
    "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication.d.ts",
    "ITriggerAuthentication",
  ],
};
const PACKAGES = ["kubernetes-models", "@kubernetes-models/apimachinery", "@kubernetes-models/keda"];

const [nm, out] = process.argv.slice(2);
if (!nm || !out) {
  console.error("usage: node extract.mjs NODE_MODULES_DIR OUT.json");
  process.exit(2);
}

// ---- every declaration of the packages, by its global (exported) name -----
const decls = new Map(); // global name -> {file, local}
const files = new Map(); // file -> {interfaces: Map(local -> body), types: Map(local -> expr), imports}

function walk(dir, acc) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== "node_modules") walk(p, acc);
    else if (e.name.endsWith(".d.ts")) acc.push(p);
  }
  return acc;
}

function stripComments(s) {
  return s.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

function blockAt(s, open) {
  // the text between the brace at s[open] and its match
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === "{") depth++;
    else if (s[i] === "}" && --depth === 0) return s.slice(open + 1, i);
  }
  throw new Error("unbalanced braces");
}

function readFile(f) {
  if (files.has(f)) return files.get(f);
  const s = stripComments(fs.readFileSync(f, "utf8"));
  const info = { interfaces: new Map(), types: new Map(), imports: new Map() };
  for (const m of s.matchAll(/export interface (\w+)(?: extends [\w, ]+)? \{/g)) {
    info.interfaces.set(m[1], blockAt(s, m.index + m[0].length - 1));
  }
  for (const m of s.matchAll(/export type (\w+) = ([^;]+);/g)) info.types.set(m[1], m[2].trim());
  for (const m of s.matchAll(/import \{ ([^}]+) \} from "([^"]+)";/g)) {
    let target = m[2];
    target = target.startsWith(".")
      ? path.resolve(path.dirname(f), target)
      : path.join(nm, target);
    target = target.replace(/\.js$/, "") + ".d.ts";
    for (const name of m[1].split(",").map((x) => x.trim())) {
      const [orig, as] = name.split(/\s+as\s+/);
      info.imports.set(as || orig, { file: target, name: orig });
    }
  }
  for (const m of s.matchAll(/export type \{ ([^}]+) \}/g)) {
    for (const pair of m[1].split(",")) {
      const [local, global] = pair.trim().split(/\s+as\s+/);
      if (global && !decls.has(global)) decls.set(global, { file: f, local });
    }
  }
  files.set(f, info);
  return info;
}

for (const p of PACKAGES) for (const f of walk(path.join(nm, p), [])) readFile(f);

// ---- type expressions -> JSON Schema ---------------------------------------
function tokenize(s) {
  const toks = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|[A-Za-z_$][\w$]*|-?\d+(?:\.\d+)?|[{}\[\]<>|:;?,()])/y;
  let m;
  re.lastIndex = 0;
  while (re.lastIndex < s.length && (m = re.exec(s))) toks.push(m[1]);
  if (s.slice(re.lastIndex).trim()) throw new Error(`cannot tokenize: ${s.slice(re.lastIndex, re.lastIndex + 40)}`);
  return toks;
}

const defs = {}; // definition name -> schema
const pending = [];

function defName(file, local) {
  // a stable, readable definition name: the global name when there is one
  for (const [g, d] of decls) if (d.file === file && d.local === local && g.startsWith("I")) return g.slice(1);
  return path.relative(nm, file).replace(/\.d\.ts$/, "").replace(/[^\w]+/g, ".") + "." + local;
}

function resolveRef(file, name) {
  // a name used in file -> {file, local} of its declaration
  const info = readFile(file);
  if (info.interfaces.has(name) || info.types.has(name)) return { file, local: name };
  if (info.imports.has(name)) {
    const im = info.imports.get(name);
    const tinfo = readFile(im.file);
    if (tinfo.interfaces.has(im.name) || tinfo.types.has(im.name)) return { file: im.file, local: im.name };
    if (decls.has(im.name)) return decls.get(im.name);
    // re-exported under another name in that file
    for (const [g, d] of decls) if (d.file === im.file && g === im.name) return d;
    throw new Error(`${im.name} not declared in ${im.file}`);
  }
  if (decls.has(name)) return decls.get(name);
  throw new Error(`unknown type ${name} in ${file}`);
}

function refTo(file, local) {
  const info = readFile(file);
  if (info.types.has(local) && !info.interfaces.has(local)) {
    // an alias (IntOrString, Quantity, ...): inline it
    return parseType(file, tokenize(info.types.get(local)), { i: 0 });
  }
  const name = defName(file, local);
  if (!(name in defs)) {
    defs[name] = null;
    pending.push([name, file, local]);
  }
  return { $ref: `#/definitions/${name}` };
}

function parseType(file, t, pos) {
  const alts = [parsePrimary(file, t, pos)];
  while (t[pos.i] === "|") {
    pos.i++;
    alts.push(parsePrimary(file, t, pos));
  }
  if (alts.length === 1) return alts[0];
  if (alts.every((a) => a.const !== undefined)) return { enum: alts.map((a) => a.const) };
  if (alts.every((a) => a.type && Object.keys(a).length === 1)) return { type: alts.map((a) => a.type) };
  return { anyOf: alts };
}

function parsePrimary(file, t, pos) {
  const tok = t[pos.i++];
  let s;
  if (tok === "string" || tok === "number" || tok === "boolean" || tok === "null") s = { type: tok };
  else if (tok === "any" || tok === "unknown" || tok === "object") s = {};
  else if (tok.startsWith('"')) s = { const: JSON.parse(tok) };
  else if (/^-?\d/.test(tok)) s = { const: Number(tok) };
  else if (tok === "Array") {
    expect(t, pos, "<");
    s = { type: "array", items: parseType(file, t, pos) };
    expect(t, pos, ">");
  } else if (tok === "(") {
    s = parseType(file, t, pos);
    expect(t, pos, ")");
  } else if (tok === "{") s = parseMembers(file, t, pos, "}");
  else {
    const r = resolveRef(file, tok);
    s = refTo(r.file, r.local);
  }
  while (t[pos.i] === "[" && t[pos.i + 1] === "]") {
    pos.i += 2;
    s = { type: "array", items: s };
  }
  return s;
}

function expect(t, pos, tok) {
  if (t[pos.i] !== tok) throw new Error(`expected ${tok}, got ${t[pos.i]} at ${t.slice(pos.i - 5, pos.i + 5).join(" ")}`);
  pos.i++;
}

function parseMembers(file, t, pos, end) {
  const props = {};
  const required = [];
  let extra = false;
  while (t[pos.i] !== end) {
    if (t[pos.i] === "[") {
      // [key: string]: T
      pos.i++;
      pos.i++; // key
      expect(t, pos, ":");
      pos.i++; // string
      expect(t, pos, "]");
      expect(t, pos, ":");
      extra = parseType(file, t, pos);
    } else {
      let name = t[pos.i++];
      if (name.startsWith('"')) name = JSON.parse(name);
      let optional = false;
      if (t[pos.i] === "?") {
        optional = true;
        pos.i++;
      }
      expect(t, pos, ":");
      props[name] = parseType(file, t, pos);
      if (!optional) required.push(name);
    }
    if (t[pos.i] === ";" || t[pos.i] === ",") pos.i++;
  }
  pos.i++;
  const s = { type: "object" };
  if (Object.keys(props).length) s.properties = props;
  if (required.length) s.required = required;
  s.additionalProperties = extra === false ? !Object.keys(props).length : extra;
  if (s.additionalProperties === true) delete s.additionalProperties; // {} = any object
  return s;
}

const roots = {};
for (const [gvk, [rel, local]] of Object.entries(ROOTS)) {
  roots[gvk] = refTo(path.join(nm, rel), local).$ref.replace("#/definitions/", "");
}
while (pending.length) {
  const [name, file, local] = pending.shift();
  const body = readFile(file).interfaces.get(local);
  if (body === undefined) throw new Error(`no interface ${local} in ${file}`);
  const t = tokenize(body + "}");
  defs[name] = parseMembers(file, t, { i: 0 }, "}");
}
// TypeMeta: apiVersion and kind are declared on every root as literals.

const version = (p) => JSON.parse(fs.readFileSync(path.join(nm, p, "package.json"), "utf8")).version;
const doc = {
  $comment:
    "Generated by tests/container/k8s-schema/extract.mjs from the type declarations of the npm packages named in 'source'. Do not edit: run tests/container/k8s-schema/update.sh.",
  source: Object.fromEntries(PACKAGES.map((p) => [p, version(p)])),
  roots,
  definitions: Object.fromEntries(Object.keys(defs).sort().map((k) => [k, defs[k]])),
};
fs.writeFileSync(out, JSON.stringify(doc, null, 1) + "\n");
console.log(`${out}: ${Object.keys(roots).length} kinds, ${Object.keys(defs).length} definitions`);
