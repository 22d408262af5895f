#!/usr/bin/env bash
# test_deploy_files.sh: the deployment files under deploy/ hold together and
# agree with what the programs do, without a container engine or a cluster
# (tests/container/run.sh, opt-in, builds and runs the image and
# compose.local.yaml for real with podman):
#   - every YAML file parses;
#   - Kubernetes: every field of every manifest exists in the API version it
#     names (tests/container/k8s-schema/, offline); probes on /healthz and /readyz at the port the ConfigMap's
#     config listens on (9464), terminationGracePeriodSeconds above the drain
#     deadline of that config, KEDA's maxReplicaCount <= the stated partition
#     count and its group/topic/brokers = the worker's, labels and names that
#     match, the secret as a file, a hardened securityContext;
#   - the ConfigMap's config passes `cxone-worker --check-config` (the secret
#     as a value and as a file) with the ConfigMap's environment;
#   - Dockerfile: the builder runs tests/run.sh's cmake commands and installs
#     the build packages of scripts/install-deps.sh; the final stage has no
#     -dev package, no compiler, runs as a non-root uid, and provides the
#     package of every shared library the programs need (Debian 12 only);
#   - compose: no top-level name:; compose.local.yaml runs only our image,
#     dev-kafka, 2 workers with their own admin port and id, waits for no
#     health check; compose.yaml: a KRaft Kafka whose listeners agree, the six topics, the
#     simulator, 2 worker replicas, the secret file, health checks, ordered
#     starts, a stop grace period above the image config's drain deadline;
#   - systemd: the unit has its hardening and `systemd-analyze verify`
#     passes (when systemd-analyze exists);
#   - no secret in any output.
#
# Env: CXW_BIN = the build's bin directory, CXW_SRC = the repository root.
# Needs python3 with PyYAML (Debian python3-yaml). Runs nothing in the
# background; takes about a second.
set -euo pipefail

BIN=${CXW_BIN:?CXW_BIN must name the build bin directory}
SRC=${CXW_SRC:?CXW_SRC must name the repository root}
W=$BIN/cxone-worker
T=$(mktemp -d "${TMPDIR:-/tmp}/test_deploy_files.XXXXXX")
trap 'rm -rf "$T"' EXIT

SECRET="deploy-test-secret-$$-do-not-log"
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() {
  log "FAIL: $*"
  exit 1
}

command -v python3 >/dev/null 2>&1 || fail "python3 is missing (scripts/install-deps.sh installs it)"
python3 -c 'import yaml' 2>/dev/null ||
  fail "python3 cannot import yaml: install Debian's python3-yaml (scripts/install-deps.sh should list it)"
[ -x "$W" ] || fail "$W is not built"

# --------------------------------------------------------------------------
# The structural checks, in Python. It writes what the shell needs next:
#   k8s.conf      the worker config embedded in the ConfigMap
#   k8s.env       NAME=VALUE of the container environment (ConfigMap + env)
#   docker.env    NAME=VALUE of the compose worker environment
#   runtime.pkgs  the packages of the Dockerfile's final stage
#   facts         key=value lines (ports, grace periods, KEDA trigger...)
cat >"$T/check.py" <<'PY'
import json
import os
import re
import shlex
import sys

import yaml

src, out = sys.argv[1], sys.argv[2]
errors = []
facts = {}


def err(msg):
    errors.append(msg)


def rel(p):
    return os.path.relpath(p, src)


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# ---- every YAML file under deploy/ parses ---------------------------------
docs = {}
for root, _dirs, files in os.walk(os.path.join(src, "deploy")):
    for name in sorted(files):
        if name.endswith((".yaml", ".yml")):
            path = os.path.join(root, name)
            try:
                docs[rel(path)] = load_all(path)
            except yaml.YAMLError as e:
                err(f"{rel(path)}: YAML does not parse: {e}")
            else:
                if not docs[rel(path)]:
                    err(f"{rel(path)}: no YAML document")
print(f"yaml: {len(docs)} files parse: {', '.join(sorted(docs))}")
if errors:
    print("\n".join("FAIL: " + e for e in errors))
    sys.exit(1)


def port_of(container, port):
    """A probe's port: a number, or the name of a container port."""
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


# ---- Kubernetes -----------------------------------------------------------
k8s_dir = "deploy/k8s"
kust = docs.get(f"{k8s_dir}/kustomization.yaml", [{}])[0]
resources = kust.get("resources", [])
by_kind = {}
for name, ds in docs.items():
    if not name.startswith(k8s_dir + "/") or name.endswith("kustomization.yaml"):
        continue
    base = os.path.basename(name)
    if base.endswith(".example.yaml"):
        # examples to adapt and apply by hand (the Secret, the topic job)
        if base in resources:
            err(f"kustomization.yaml lists {base}: an example, to adapt and apply by hand")
    elif base not in resources:
        err(f"kustomization.yaml does not list {base}")
    for d in ds:
        if not isinstance(d, dict) or "kind" not in d or "apiVersion" not in d:
            err(f"{name}: a document without kind/apiVersion")
            continue
        if d.get("metadata", {}).get("namespace"):
            err(f"{name}: {d['kind']} names a namespace; the manifests must be namespace-agnostic")
        by_kind.setdefault(d["kind"], []).append((name, d))
for r in resources:
    if not os.path.isfile(os.path.join(src, k8s_dir, r)):
        err(f"kustomization.yaml lists {r}, which does not exist")


def one(kind):
    items = by_kind.get(kind, [])
    if len(items) != 1:
        err(f"{k8s_dir}: expected one {kind}, found {len(items)}")
        return {}
    return items[0][1]


dep = one("Deployment")
pdb = one("PodDisruptionBudget")
so = one("ScaledObject")
secret = one("Secret")
cms = {d["metadata"]["name"]: d for _n, d in by_kind.get("ConfigMap", [])}

spec = dep.get("spec", {})
pod = spec.get("template", {}).get("spec", {})
tlabels = spec.get("template", {}).get("metadata", {}).get("labels", {})
sel = spec.get("selector", {}).get("matchLabels", {})
if not matches(sel, tlabels):
    err("Deployment: selector.matchLabels does not match the pod template's labels")
replicas = spec.get("replicas", 1)
facts["k8s_replicas"] = replicas
containers = pod.get("containers", [])
c = next((c for c in containers if "cxone-worker" in " ".join(c.get("command", []) + c.get("args", []))
          or c.get("name") == "worker"), containers[0] if containers else {})
if not c:
    err("Deployment: no container")

probe_ports = set()
for kind, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
    pr = c.get(kind, {}).get("httpGet")
    if not pr:
        err(f"Deployment: no {kind}.httpGet")
        continue
    if pr.get("path") != path:
        err(f"Deployment: {kind} path {pr.get('path')!r}, the worker serves {path}")
    probe_ports.add(port_of(c, pr.get("port")))
if probe_ports != {9464}:
    err(f"Deployment: probe ports {sorted(map(str, probe_ports))}, expected 9464")
facts["k8s_probe_port"] = 9464 if probe_ports == {9464} else next(iter(probe_ports), 0)
if 9464 not in [p.get("containerPort") for p in c.get("ports", [])]:
    err("Deployment: container port 9464 not declared")
ann = spec.get("template", {}).get("metadata", {}).get("annotations", {})
if ann.get("prometheus.io/scrape") != "true" or str(ann.get("prometheus.io/port")) != "9464" \
        or ann.get("prometheus.io/path") != "/metrics":
    err("Deployment: prometheus.io/scrape, port 9464 and path /metrics annotations expected")

# NetworkPolicy (security finding 4): it selects the worker's pods, governs
# their ingress, and lets in only the admin port, from a namespace chosen by
# label, never from anywhere (an empty or missing "from").
np = one("NetworkPolicy")
npspec = np.get("spec", {})
if not matches(npspec.get("podSelector", {}).get("matchLabels", {}), tlabels):
    err("NetworkPolicy: podSelector does not select the Deployment's pods")
if "Ingress" not in npspec.get("policyTypes", []):
    err("NetworkPolicy: policyTypes lacks Ingress")
rules = npspec.get("ingress", [])
if not rules:
    err("NetworkPolicy: no ingress rule: the admin port would be closed to Prometheus too")
for i, rule in enumerate(rules):
    ports = [port_of(c, p.get("port")) for p in rule.get("ports", [])]
    if not ports or set(ports) != {9464}:
        err(f"NetworkPolicy: ingress[{i}] ports {ports}, want only the admin port 9464")
    froms = rule.get("from", [])
    if not froms or any(not f.get("namespaceSelector", {}).get("matchLabels") and not f.get("podSelector")
                        for f in froms):
        err(f"NetworkPolicy: ingress[{i}] lets in any source; name the monitoring namespace")

grace = pod.get("terminationGracePeriodSeconds")
if not isinstance(grace, int):
    err("Deployment: terminationGracePeriodSeconds not set")
    grace = 0
facts["k8s_grace_s"] = grace

psc = pod.get("securityContext", {})
csc = c.get("securityContext", {})
if not (psc.get("runAsNonRoot") or csc.get("runAsNonRoot")):
    err("Deployment: runAsNonRoot not set")
uid = csc.get("runAsUser", psc.get("runAsUser"))
if uid is not None and uid == 0:
    err("Deployment: runAsUser 0")
if csc.get("readOnlyRootFilesystem") is not True:
    err("Deployment: readOnlyRootFilesystem is not true")
if csc.get("allowPrivilegeEscalation") is not False:
    err("Deployment: allowPrivilegeEscalation is not false")
if "ALL" not in csc.get("capabilities", {}).get("drop", []):
    err("Deployment: capabilities.drop does not include ALL")
res = c.get("resources", {})
for k in ("requests", "limits"):
    for r in ("cpu", "memory"):
        if r not in res.get(k, {}):
            err(f"Deployment: resources.{k}.{r} not set")

# The config file: the path given with -c is a mount of the ConfigMap's key.
argv = c.get("command", []) + c.get("args", [])
conf_path = argv[argv.index("-c") + 1] if "-c" in argv[:-1] else None
if not conf_path:
    err("Deployment: the container does not run cxone-worker -c FILE")
vols = {v["name"]: v for v in pod.get("volumes", [])}
mounts = c.get("volumeMounts", [])


def volume_for(path):
    """The volume and the file below its mount that holds path."""
    for m in mounts:
        mp = m["mountPath"].rstrip("/")
        if path and path.startswith(mp + "/"):
            return vols.get(m["name"], {}), path[len(mp) + 1:]
    return {}, None


conf_text = None
vol, sub = volume_for(conf_path)
cmref = vol.get("configMap")
if not cmref:
    err(f"Deployment: {conf_path} is not in a ConfigMap volume")
else:
    key = sub
    for it in cmref.get("items", []):
        if it.get("path") == sub:
            key = it.get("key")
    cm = cms.get(cmref.get("name"))
    if not cm:
        err(f"Deployment: ConfigMap {cmref.get('name')} is not in {k8s_dir}")
    elif key not in cm.get("data", {}):
        err(f"Deployment: ConfigMap {cmref.get('name')} has no key {key}")
    else:
        conf_text = cm["data"][key]
if conf_text is not None:
    with open(os.path.join(out, "k8s.conf"), "w", encoding="utf-8") as f:
        f.write(conf_text)

# The environment: envFrom ConfigMaps + env values; the secret as a file.
env = {}
for ef in c.get("envFrom", []):
    name = ef.get("configMapRef", {}).get("name")
    if name:
        if name not in cms:
            err(f"Deployment: envFrom ConfigMap {name} is not in {k8s_dir}")
        else:
            env.update({k: str(v) for k, v in cms[name].get("data", {}).items()})
for e in c.get("env", []):
    if "value" in e:
        env[e["name"]] = str(e["value"])
if "CXONE_CLIENT_SECRET" in env:
    err("Deployment: CXONE_CLIENT_SECRET in plain env; mount the Secret as a file")
if "CXONE_PEER_SECRET" in env:
    err("Deployment: CXONE_PEER_SECRET in plain env; mount the Secret as a file")
pvol, _ = volume_for(env.get("CXONE_PEER_SECRET_FILE"))
if not env.get("CXONE_PEER_SECRET_FILE") or not pvol.get("secret"):
    err("Deployment: CXONE_PEER_SECRET_FILE (the budget reports' group key) is not a file of a Secret volume")
sfile = env.get("CXONE_CLIENT_SECRET_FILE")
vol, sub = volume_for(sfile)
sref = vol.get("secret")
if not sfile or not sref:
    err("Deployment: CXONE_CLIENT_SECRET_FILE is not a file of a Secret volume")
else:
    key = sub
    for it in sref.get("items", []):
        if it.get("path") == sub:
            key = it.get("key")
    smeta = secret.get("metadata", {})
    if sref.get("secretName") != smeta.get("name"):
        err(f"Deployment: Secret {sref.get('secretName')} is not the one of secret.example.yaml ({smeta.get('name')})")
    sdata = {**secret.get("stringData", {}), **secret.get("data", {})}
    if key not in sdata:
        err(f"secret.example.yaml: no key {key}")
    elif not re.search(r"REPLACE|placeholder|example", str(sdata[key]), re.I):
        err("secret.example.yaml: the value does not look like a placeholder")
with open(os.path.join(out, "k8s.env"), "w", encoding="utf-8") as f:
    for k, v in sorted(env.items()):
        f.write(f"{k}={v}\n")

# PodDisruptionBudget, Service, KEDA
if pdb:
    if pdb.get("spec", {}).get("maxUnavailable") != 1:
        err("PodDisruptionBudget: maxUnavailable is not 1")
    if not matches(pdb.get("spec", {}).get("selector", {}).get("matchLabels", {}), tlabels):
        err("PodDisruptionBudget: selector does not match the worker pods")
for _n, svc in by_kind.get("Service", []):
    if not matches(svc.get("spec", {}).get("selector", {}), tlabels):
        err(f"Service {svc['metadata']['name']}: selector does not match the worker pods")
if so:
    sspec = so.get("spec", {})
    if sspec.get("scaleTargetRef", {}).get("name") != dep.get("metadata", {}).get("name"):
        err("ScaledObject: scaleTargetRef is not the Deployment")
    parts = so.get("metadata", {}).get("annotations", {}).get("cxone-worker/topic-partitions")
    if not str(parts or "").isdigit():
        err("ScaledObject: annotation cxone-worker/topic-partitions (the partition count) missing")
        parts = 0
    parts = int(parts)
    mx, mn = sspec.get("maxReplicaCount"), sspec.get("minReplicaCount")
    if not isinstance(mx, int) or mx > parts:
        err(f"ScaledObject: maxReplicaCount {mx} > {parts} partitions")
    if not isinstance(mn, int) or not 1 <= mn <= (mx or 0):
        err(f"ScaledObject: minReplicaCount {mn} not in 1..maxReplicaCount")
    if replicas > parts:
        err(f"Deployment: replicas {replicas} > {parts} partitions")
    trig = [t for t in sspec.get("triggers", []) if t.get("type") == "kafka"]
    if len(trig) != 2:
        err(f"ScaledObject: expected two kafka triggers (one per request topic), found {len(trig)}")
    mds = [t.get("metadata", {}) for t in trig]
    for key, fact in (("consumerGroup", "keda_group"), ("bootstrapServers", "keda_bootstrap")):
        vals = {md.get(key, "") for md in mds}
        if len(vals) != 1:
            err(f"ScaledObject: the triggers' {key} differ: {sorted(vals)}")
        facts[fact] = sorted(vals)[0] if vals else ""
    facts["keda_topics"] = ",".join(sorted(md.get("topic", "") for md in mds))
    for md in mds:
        if str(md.get("allowIdleConsumers", "false")).lower() != "false":
            err("ScaledObject: allowIdleConsumers must stay false")
    facts["partitions"] = parts
TOPICS = ["cxone.contact-updates", "cxone.schedule-imports", "cxone.results", "cxone.audit", "cxone.dlq"]


def check_topic_script(where, text, partitions):
    """A script creating the five topics with `partitions` partitions and the
    budget topic with 1 (kafka-topics.sh --create)."""
    missing = [x for x in TOPICS + ["cxone.budget"] if x not in text]
    if missing:
        err(f"{where}: the topic script does not create {', '.join(missing)}")
    creates = [c for c in re.split(r"\n|;", text.replace("\\\n", " ")) if "--create" in c]
    budget = [c for c in creates if "cxone.budget" in c]
    others = [c for c in creates if "cxone.budget" not in c]
    if not budget or "--partitions 1 " not in budget[0] + " ":
        err(f"{where}: the budget topic is not created with 1 partition")
    if not others or any(f"--partitions {partitions} " not in c + " " for c in others):
        err(f"{where}: the request topics are not created with {partitions} partitions")


jobs = by_kind.get("Job", [])
if len(jobs) != 1:
    err(f"{k8s_dir}: expected one topic Job (topics-job.example.yaml), found {len(jobs)}")
else:
    jc = jobs[0][1]["spec"]["template"]["spec"]["containers"][0]
    check_topic_script("topics Job", " ".join(jc.get("command", []) + jc.get("args", [])),
                       facts.get("partitions", 6))
print(f"k8s: {sum(len(v) for v in by_kind.values())} objects; Deployment replicas {replicas}, "
      f"probes on {sorted(map(str, probe_ports))}, grace {grace}s, "
      f"KEDA max {so.get('spec', {}).get('maxReplicaCount')} of {facts.get('partitions')} partitions")

# ---- Dockerfile -----------------------------------------------------------
dpath = os.path.join(src, "deploy/docker/Dockerfile")
with open(dpath, encoding="utf-8") as f:
    raw = f.read()
lines, cur = [], ""
for line in raw.splitlines():
    if not cur and line.lstrip().startswith("#"):
        continue
    if line.rstrip().endswith("\\"):
        cur += line.rstrip()[:-1] + " "
        continue
    if cur and line.lstrip().startswith("#"):
        continue  # a comment inside a continued instruction
    cur += line
    if cur.strip():
        lines.append(cur.strip())
    cur = ""
stages = []
for line in lines:
    word, _, rest = line.partition(" ")
    word = word.upper()
    if word == "FROM":
        stages.append({"from": rest.split()[0], "name": rest.split()[-1] if " AS " in rest.upper() else "",
                       "ins": []})
    elif stages:
        stages[-1]["ins"].append((word, rest.strip()))
if len(stages) < 2:
    err("Dockerfile: not multi-stage")
    stages = stages + [{"from": "", "name": "", "ins": []}] * 2


def norm(cmd):
    cmd = re.sub(r"\d?>\s*/dev/null|2>&1", "", cmd)
    cmd = re.sub(r"\s-j\s*(\"[^\"]*\"|\S*)", "", cmd)
    return " ".join(cmd.split())


def shell_cmds(text):
    return [norm(c) for c in re.split(r"&&|;|\|\||\n", text) if c.strip()]


def apt_packages(text):
    pk = []
    for m in re.finditer(r"apt-get\s+install\s+([^&;|]*)", text):
        pk += [w for w in m.group(1).split() if not w.startswith("-")]
    return pk


with open(os.path.join(src, "tests/run.sh"), encoding="utf-8") as f:
    runsh = f.read()
run_cmds = []
for line in runsh.splitlines():
    s = line.strip()
    if s.startswith("cmake ") and "asan" not in s and "SANITIZE" not in s:
        run_cmds.append(norm(s))
if len(run_cmds) < 2:
    err("tests/run.sh: could not find its cmake configure and build commands")
builder, final = stages[0], stages[-1]
if not re.match(r"(docker\.io/)?(library/)?debian:bookworm($|[-@])", builder["from"]):
    err(f"Dockerfile: the builder is FROM {builder['from']}, expected debian:bookworm")
if not re.match(r"(docker\.io/)?(library/)?debian:bookworm-slim($|@)", final["from"]):
    err(f"Dockerfile: the final stage is FROM {final['from']}, expected debian:bookworm-slim")
brun = [shell_cmds(r) for w, r in builder["ins"] if w == "RUN"]
bcmds = [c for cs in brun for c in cs]
for rc in run_cmds:
    if rc not in bcmds:
        err(f"Dockerfile: the builder does not run tests/run.sh's `{rc}`")
with open(os.path.join(src, "scripts/install-deps.sh"), encoding="utf-8") as f:
    m = re.search(r"packages=\(([^)]*)\)", f.read())
deps = m.group(1).split() if m else []
build_deps = [p for p in deps if p.endswith("-dev") or p in ("build-essential", "cmake", "pkg-config")]
bpk = [p for w, r in builder["ins"] if w == "RUN" for p in apt_packages(r)]
for p in build_deps:
    if p not in bpk:
        err(f"Dockerfile: the builder does not install {p} (scripts/install-deps.sh)")
frun = " && ".join(r for w, r in final["ins"] if w == "RUN")
fpk = apt_packages(frun)
bad = [p for p in fpk if p.endswith("-dev") or p in ("build-essential", "gcc", "cc", "cmake", "make",
                                                      "pkg-config", "clang")]
if bad:
    err(f"Dockerfile: the final stage installs build packages: {' '.join(bad)}")
hc = [r for w, r in final["ins"] if w == "HEALTHCHECK"]
if hc and "curl" in hc[0] and "curl" not in fpk:
    err("Dockerfile: HEALTHCHECK uses curl, which the final stage does not install")
users = [r for w, r in final["ins"] if w == "USER"]
if not users:
    err("Dockerfile: the final stage has no USER (it would run as root)")
else:
    u = users[-1].split(":")[0]
    if u in ("root", "0") or not u.isdigit():
        err(f"Dockerfile: USER {users[-1]}: expected a numeric non-root uid (for runAsNonRoot)")
    facts["docker_uid"] = u
ent = [r for w, r in final["ins"] if w == "ENTRYPOINT"]
conf_in_image = "/etc/cxone-worker/cxone-worker.conf"
try:
    ent_argv = json.loads(ent[-1]) if ent else []
except ValueError:
    ent_argv = []  # the shell form: signals would go to /bin/sh, not the worker
if len(ent_argv) != 3 or os.path.basename(ent_argv[0]) != "cxone-worker" or ent_argv[1:] != ["-c", conf_in_image]:
    err(f"Dockerfile: ENTRYPOINT is not the exec form [\"cxone-worker\", \"-c\", \"{conf_in_image}\"]")
if not any(w == "EXPOSE" and "9464" in r.split() for w, r in final["ins"]):
    err("Dockerfile: EXPOSE 9464 missing")
if not any(w == "STOPSIGNAL" and r in ("SIGTERM", "15") for w, r in final["ins"]):
    err("Dockerfile: STOPSIGNAL SIGTERM missing")
copied, image_conf = "", None
for w, r in final["ins"] + builder["ins"]:
    if w != "COPY":
        continue
    parts_ = [p for p in shlex.split(r) if not p.startswith("--")]
    if "--from=" in r:
        copied += " " + r
        continue
    for s in parts_[:-1]:
        if not os.path.exists(os.path.join(src, s)):
            err(f"Dockerfile: COPY {s}: no such path under the repository root (the build context)")
    if parts_[-1] == conf_in_image:
        image_conf = parts_[0]
for prog in ("cxone-worker", "cxonectl", "cxone-sim"):
    if f"bin/{prog}" not in copied:
        err(f"Dockerfile: {prog} is not copied from the builder")
if not image_conf:
    err(f"Dockerfile: nothing is copied to {conf_in_image}")
else:
    facts["docker_conf"] = image_conf
with open(os.path.join(out, "runtime.pkgs"), "w", encoding="utf-8") as f:
    f.write("\n".join(fpk) + "\n")
print(f"Dockerfile: {len(stages)} stages; builder runs {run_cmds}; runtime packages: {' '.join(fpk)}")

# ---- compose --------------------------------------------------------------
cpath = "deploy/docker/compose.yaml"
comp = docs.get(cpath, [{}])[0]
cdir = os.path.join(src, os.path.dirname(cpath))
svcs = comp.get("services", {})


def text_of(s):
    parts_ = []
    for k in ("entrypoint", "command"):
        v = s.get(k)
        parts_.append(" ".join(v) if isinstance(v, list) else str(v or ""))
    return " ".join(parts_)


def envmap(s):
    e = s.get("environment", {})
    if isinstance(e, list):
        e = dict(x.split("=", 1) for x in e)
    return {k: str(v) for k, v in e.items()}


kafka = [(n, s) for n, s in svcs.items() if re.match(r"(docker\.io/)?(apache|bitnami)/kafka:", str(s.get("image", "")))
         and not s.get("entrypoint")]
if len(kafka) != 1:
    err(f"compose: expected one Kafka broker service, found {[n for n, _ in kafka]}")
else:
    kname, ks = kafka[0]
    ke = envmap(ks)
    pre = "KAFKA_CFG_" if "bitnami" in ks["image"] else "KAFKA_"
    get = lambda k: ke.get(pre + k, "")
    if "controller" not in get("PROCESS_ROLES") or "broker" not in get("PROCESS_ROLES"):
        err("compose: Kafka is not a combined KRaft broker,controller")
    cl = get("CONTROLLER_LISTENER_NAMES")
    listeners = dict(re.match(r"([A-Z_]+)://(.*)", x).groups() for x in get("LISTENERS").split(",") if x)
    adv = dict(re.match(r"([A-Z_]+)://(.*)", x).groups() for x in get("ADVERTISED_LISTENERS").split(",") if x)
    pmap = dict(x.split(":") for x in get("LISTENER_SECURITY_PROTOCOL_MAP").split(",") if x)
    if cl not in listeners:
        err(f"compose: the controller listener {cl} is not in KAFKA listeners")
    if cl in adv:
        err("compose: the controller listener must not be advertised")
    for name in set(listeners) | set(adv):
        if name not in pmap:
            err(f"compose: listener {name} has no security protocol")
    voters = get("CONTROLLER_QUORUM_VOTERS")
    mv = re.fullmatch(r"(\d+)@([^:]+):(\d+)", voters)
    if not mv or mv.group(1) != str(ke.get(pre + "NODE_ID")) or \
            not listeners.get(cl, "").endswith(":" + mv.group(3)):
        err(f"compose: controller quorum {voters!r} does not match node id and controller listener")
    hosts = {kname, ks.get("hostname", kname)}
    inner = [a for a in adv.values() if a.split(":")[0] in hosts]
    if not inner:
        err("compose: no advertised listener names the Kafka service on the compose network")
    boot = inner[0] if inner else ""
    for key in ("OFFSETS_TOPIC_REPLICATION_FACTOR",):
        if get(key) != "1":
            err(f"compose: a single broker needs {pre}{key}=1")
    if not ks.get("healthcheck"):
        err("compose: Kafka has no healthcheck")
    topics = ["cxone.contact-updates", "cxone.schedule-imports", "cxone.results", "cxone.audit", "cxone.dlq",
              "cxone.budget"]
    init = [s for n, s in svcs.items() if "kafka-topics" in text_of(s)]
    np_ = facts.get("partitions", 6)
    if init:
        check_topic_script("compose", text_of(init[0]), np_)
        if (init[0].get("depends_on", {}).get(kname) or {}).get("condition") != "service_healthy":
            err("compose: the topic job does not wait for a healthy Kafka")
    elif get("AUTO_CREATE_TOPICS_ENABLE") != "true" or get("NUM_PARTITIONS") != str(np_):
        err(f"compose: neither a topic job nor auto-creation with {np_} partitions")

ours = [(n, s) for n, s in svcs.items() if "build" in s]
images = {s.get("image") for _n, s in ours}
for n, s in ours:
    b = s["build"] if isinstance(s["build"], dict) else {"context": s["build"]}
    ctx = os.path.normpath(os.path.join(cdir, b.get("context", ".")))
    if ctx != os.path.normpath(src):
        err(f"compose: {n} builds from {ctx}, not the repository root")
    if not os.path.isfile(os.path.join(ctx, b.get("dockerfile", "Dockerfile"))):
        err(f"compose: {n}: Dockerfile {b.get('dockerfile')} not found in the context")
sim = [(n, s) for n, s in svcs.items() if "cxone-sim" in text_of(s)]
if not sim or sim[0][1].get("image") not in images:
    err("compose: no cxone-sim service running our image")
elif not sim[0][1].get("healthcheck"):
    err("compose: cxone-sim has no healthcheck")
workers = [(n, s) for n, s in svcs.items() if s.get("image") in images and not s.get("profiles")
           and ("cxone-worker" in text_of(s) or not s.get("entrypoint"))]
nworkers = sum(int(s.get("deploy", {}).get("replicas", 1)) for _n, s in workers)
if nworkers < 2:
    err(f"compose: {nworkers} worker replicas, expected 2")
compose_env = {}
top_secrets = comp.get("secrets", {})
for n, s in workers:
    e = envmap(s)
    compose_env = e
    sf = e.get("CXONE_CLIENT_SECRET_FILE", "")
    names = [x if isinstance(x, str) else x.get("source") for x in s.get("secrets", [])]
    sname = sf.rsplit("/", 1)[-1]
    if "CXONE_CLIENT_SECRET" in e:
        err(f"compose: {n} has the secret in its environment")
    if not sf.startswith("/run/secrets/") or sname not in names or sname not in top_secrets:
        err(f"compose: {n}: CXONE_CLIENT_SECRET_FILE is not a compose secret file")
    elif not os.path.isfile(os.path.join(cdir, top_secrets[sname].get("file", ""))):
        err(f"compose: secret file {top_secrets[sname].get('file')} not found")
    if not s.get("healthcheck"):
        err(f"compose: {n} has no healthcheck")
    conds = {k: (v or {}).get("condition") for k, v in s.get("depends_on", {}).items()} \
        if isinstance(s.get("depends_on"), dict) else {}
    if not conds or None in conds.values():
        err(f"compose: {n}: depends_on without conditions")
    if kafka and boot and e.get("KAFKA_BOOTSTRAP_SERVERS") != boot:
        err(f"compose: {n}: KAFKA_BOOTSTRAP_SERVERS {e.get('KAFKA_BOOTSTRAP_SERVERS')} is not {boot}")
    g = str(s.get("stop_grace_period", "10s"))
    mg = re.fullmatch(r"(\d+)s", g)
    facts["compose_grace_s"] = int(mg.group(1)) if mg else 0
with open(os.path.join(out, "docker.env"), "w", encoding="utf-8") as f:
    for k, v in sorted(compose_env.items()):
        f.write(f"{k}={v}\n")
print(f"compose: services {', '.join(svcs)}; {nworkers} worker replicas")

# ---- compose.local.yaml: the project's image only, no health check waited for
lpath = "deploy/docker/compose.local.yaml"
for cp_ in (cpath, lpath):
    if "name" in docs.get(cp_, [{}])[0]:
        err(f"{cp_}: a top-level name: (docker-compose v1 rejects it; give -p)")
lsvcs = docs.get(lpath, [{}])[0].get("services", {})
limages = {s.get("image") for s in lsvcs.values()}
if limages != images:
    err(f"{lpath}: images {sorted(map(str, limages))}, expected only the project's {sorted(map(str, images))}")
if "dev-kafka" not in text_of(lsvcs.get("kafka", {})):
    err(f"{lpath}: the kafka service does not run cxonectl dev-kafka")
lworkers = {n: s for n, s in lsvcs.items() if "cxone-worker -c" in text_of(s)}
ports, ids = set(), set()
for n, s in lworkers.items():
    e = envmap(s)
    ports.add(e.get("CXONE_WORKER_ADMIN_LISTEN"))
    ids.add(e.get("WORKER_ID"))
    for dep in (s.get("depends_on") or {}).values() if isinstance(s.get("depends_on"), dict) else []:
        if (dep or {}).get("condition") == "service_healthy":
            err(f"{lpath}: {n} waits for a health check (nothing runs them under podman without systemd)")
    g = re.fullmatch(r"(\d+)s", str(s.get("stop_grace_period", "10s")))
    if not g or int(g.group(1)) != facts.get("compose_grace_s"):
        err(f"{lpath}: {n}: stop_grace_period is not compose.yaml's")
if len(lworkers) != 2 or len(ports) != 2 or len(ids) != 2 or None in ports | ids:
    err(f"{lpath}: expected 2 workers with their own admin port and WORKER_ID, found {sorted(lworkers)}")
print(f"compose.local: services {', '.join(lsvcs)}; workers {', '.join(sorted(lworkers))}")

# ---- systemd ----------------------------------------------------------------
upath = os.path.join(src, "deploy/systemd/cxone-worker.service")
unit = {}
with open(upath, encoding="utf-8") as f:
    for line in f:
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            k, v = line.split("=", 1)
            unit.setdefault(k.strip(), []).append(v.strip())
want = {
    "ExecStart": "/usr/local/bin/cxone-worker -c /etc/cxone-worker/cxone-worker.conf",
    "KillSignal": "SIGTERM",
    "Restart": "on-failure",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "SystemCallFilter": "@system-service",
    "CapabilityBoundingSet": "",
    "LoadCredential": "cxone-client-secret:/etc/cxone-worker/client-secret",
    "Environment": "CXONE_CLIENT_SECRET_FILE=%d/cxone-client-secret",
    "EnvironmentFile": "-/etc/cxone-worker/env",
}
for k, v in want.items():
    if v not in unit.get(k, []):
        err(f"systemd: {k}={v} missing")
if not any("--check-config" in x for x in unit.get("ExecStartPre", [])):
    err("systemd: no ExecStartPre= --check-config")
if not unit.get("LimitNOFILE"):
    err("systemd: LimitNOFILE missing")
if not (unit.get("User") or "yes" in unit.get("DynamicUser", [])):
    err("systemd: no User= / DynamicUser=yes")
ts = (unit.get("TimeoutStopSec") or ["0"])[-1]
facts["systemd_stop_s"] = int(ts) if ts.isdigit() else 0
print(f"systemd: {sum(len(v) for v in unit.values())} settings, TimeoutStopSec={ts}")

with open(os.path.join(out, "facts"), "w", encoding="utf-8") as f:
    for k, v in facts.items():
        f.write(f"{k}={v}\n")
if errors:
    print("\n".join("FAIL: " + e for e in errors))
    sys.exit(1)
PY
python3 "$T/check.py" "$SRC" "$T" >&2 || fail "deployment files (above)"

fact() { sed -n "s/^$1=//p" "$T/facts"; }

# Runs cxone-worker in a clean environment: only PATH, the NAME=VALUE lines
# of an env file, and the extra NAME=VALUE arguments.
run_worker() { # ENVFILE [NAME=VALUE...] -- ARGS...
  local envfile=$1
  shift
  local vars=()
  while [ "$1" != "--" ]; do
    vars+=("$1")
    shift
  done
  shift
  mapfile -t fvars <"$envfile"
  env -i PATH="$PATH" "${fvars[@]}" "${vars[@]}" "$W" "$@"
}

# effective KEY < print-config output: the value, without the "  # env NAME"
# mark of a value from the environment, quotes removed.
effective() { sed -n "s/^$1 = //p" "$2" | sed 's/  # env [A-Z0-9_]*$//; s/^"\(.*\)"$/\1/'; }

printf '%s\n' "$SECRET" >"$T/secret"

# ---- Kubernetes: the ConfigMap's config, as the pod would run it ----------
grep -Ev '^CXONE_(CLIENT|PEER)_SECRET_FILE=' "$T/k8s.env" >"$T/k8s-nofile.env"
run_worker "$T/k8s-nofile.env" CXONE_CLIENT_SECRET="$SECRET" -- \
  --check-config -c "$T/k8s.conf" >"$T/k8s-check.out" 2>&1 ||
  fail "the ConfigMap's config fails --check-config with CXONE_CLIENT_SECRET: $(cat "$T/k8s-check.out")"
run_worker "$T/k8s-nofile.env" CXONE_CLIENT_SECRET_FILE="$T/secret" -- \
  --check-config -c "$T/k8s.conf" >"$T/k8s-checkfile.out" 2>&1 ||
  fail "the ConfigMap's config fails --check-config with a secret file: $(cat "$T/k8s-checkfile.out")"
run_worker "$T/k8s-nofile.env" CXONE_CLIENT_SECRET_FILE="$T/secret" -- \
  --print-config -c "$T/k8s.conf" >"$T/k8s-print.out" 2>&1 || fail "--print-config on the ConfigMap's config"

deadline=$(effective worker.shutdown_deadline_ms "$T/k8s-print.out")
listen=$(effective worker.admin_listen "$T/k8s-print.out")
grace=$(fact k8s_grace_s)
[ -n "$deadline" ] || fail "no worker.shutdown_deadline_ms in --print-config"
[ $((grace * 1000)) -gt "$deadline" ] ||
  fail "terminationGracePeriodSeconds ${grace}s is not above the drain deadline ${deadline} ms"
[ "${listen##*:}" = "$(fact k8s_probe_port)" ] ||
  fail "the ConfigMap's admin_listen '$listen' is not on the probes' port $(fact k8s_probe_port)"
[ "$(effective kafka.group_id "$T/k8s-print.out")" = "$(fact keda_group)" ] ||
  fail "KEDA's consumerGroup $(fact keda_group) is not the worker's group"
want_topics=$(printf '%s\n' "$(effective kafka.topics.contact_updates "$T/k8s-print.out")" \
  "$(effective kafka.topics.schedule_imports "$T/k8s-print.out")" | sort | paste -sd, -)
[ "$want_topics" = "$(fact keda_topics)" ] ||
  fail "KEDA's topics $(fact keda_topics) are not the worker's request topics $want_topics"
[ "$(effective kafka.bootstrap_servers "$T/k8s-print.out")" = "$(fact keda_bootstrap)" ] ||
  fail "KEDA's bootstrapServers $(fact keda_bootstrap) are not the worker's"
log "k8s: config valid; drain ${deadline} ms < grace ${grace} s; admin $listen; KEDA on $(fact keda_group)/{$(fact keda_topics)}"

# ---- Docker: the image's config with the compose environment --------------
grep -Ev '^CXONE_(CLIENT|PEER)_SECRET_FILE=' "$T/docker.env" >"$T/docker-nofile.env"
dconf=$SRC/$(fact docker_conf)
run_worker "$T/docker-nofile.env" CXONE_CLIENT_SECRET_FILE="$T/secret" -- \
  --check-config -c "$dconf" >"$T/docker-check.out" 2>&1 ||
  fail "the image's config with the compose environment fails --check-config: $(cat "$T/docker-check.out")"
run_worker "$T/docker-nofile.env" CXONE_CLIENT_SECRET_FILE="$T/secret" -- \
  --print-config -c "$dconf" >"$T/docker-print.out" 2>&1 || fail "--print-config on the image's config"
ddeadline=$(effective worker.shutdown_deadline_ms "$T/docker-print.out")
[ $(($(fact compose_grace_s) * 1000)) -gt "$ddeadline" ] ||
  fail "compose stop_grace_period $(fact compose_grace_s)s is not above the drain deadline $ddeadline ms"
[ "$(effective worker.admin_listen "$T/docker-print.out")" = "0.0.0.0:9464" ] ||
  fail "the image's admin listener is not 0.0.0.0:9464 (EXPOSE 9464, compose healthcheck)"
# Without the environment, the file alone must be valid but for the credentials.
env -i PATH="$PATH" CXONE_CLIENT_ID=x CXONE_CLIENT_SECRET="$SECRET" "$W" --check-config -c "$dconf" \
  >"$T/docker-alone.out" 2>&1 || fail "the image's config alone: $(cat "$T/docker-alone.out")"
log "docker: image config valid; drain ${ddeadline} ms < stop_grace_period $(fact compose_grace_s) s"

# The final stage provides every shared library the programs load directly
# (package names are Debian 12's, the image's base).
if [ -r /etc/os-release ] && grep -q '^VERSION_CODENAME=bookworm' /etc/os-release &&
  command -v readelf >/dev/null && command -v dpkg >/dev/null; then
  for prog in cxone-worker cxonectl cxone-sim; do
    readelf -d "$BIN/$prog" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
  done | sort -u >"$T/needed"
  while read -r so; do
    case "$so" in
    libc.so.* | libm.so.* | ld-linux* | libpthread.so.* | libdl.so.* | librt.so.* | libresolv.so.*) continue ;;
    libasan.so.* | libubsan.so.* | liblsan.so.* | libtsan.so.* | libgcc_s.so.*) continue ;; # sanitizer builds
    esac
    pkg=$(dpkg -S "*/$so" 2>/dev/null | head -n 1 | cut -d: -f1)
    [ -n "$pkg" ] || fail "no Debian package found for $so"
    grep -qx "$pkg" "$T/runtime.pkgs" ||
      fail "the programs need $so from $pkg, which the Dockerfile's final stage does not install"
  done <"$T/needed"
  log "docker: the final stage provides $(wc -l <"$T/needed") direct libraries' packages"
else
  log "note: not Debian 12 (or no readelf/dpkg): the runtime library check of the Dockerfile is skipped"
fi

# ---- systemd ----------------------------------------------------------------
stop_s=$(fact systemd_stop_s)
run_worker /dev/null CXONE_CLIENT_SECRET="$SECRET" -- --print-config -c "$SRC/config/cxone-worker.conf" \
  >"$T/unit-print.out" 2>&1 || fail "--print-config on config/cxone-worker.conf"
udeadline=$(effective worker.shutdown_deadline_ms "$T/unit-print.out")
[ $((stop_s * 1000)) -gt "$udeadline" ] ||
  fail "TimeoutStopSec=${stop_s} is not above the drain deadline $udeadline ms of config/cxone-worker.conf"
if command -v systemd-analyze >/dev/null 2>&1; then
  mkdir -p "$T/unit"
  # verify needs ExecStart's binary to exist: point it at the build.
  sed "s#/usr/local/bin/cxone-worker#$W#g" "$SRC/deploy/systemd/cxone-worker.service" \
    >"$T/unit/cxone-worker.service"
  rc=0
  SYSTEMD_LOG_COLOR=0 systemd-analyze verify "$T/unit/cxone-worker.service" >"$T/verify.out" 2>&1 || rc=$?
  cat "$T/verify.out" >&2
  [ $rc -eq 0 ] || fail "systemd-analyze verify exited $rc"
  # Warnings about the unit itself (unknown keys, bad values) exit 0: fail on them too.
  if grep -E 'cxone-worker\.service(:[0-9]+)?:' "$T/verify.out" >&2; then
    fail "systemd-analyze verify warns about the unit"
  fi
  log "systemd: verify passes; TimeoutStopSec=${stop_s}s > drain ${udeadline} ms"
else
  log "note: systemd-analyze not installed: the unit was checked by parsing only"
fi

# ---- Kubernetes API schema: every field exists in the API version named ----
# Against tests/container/k8s-schema/k8s-schema.json (generated from the npm
# packages kubernetes-models and @kubernetes-models/keda by update.sh there):
# offline, no cluster. First a copy with a misspelt field, which must fail.
SCHEMA_CHECK=$SRC/tests/container/k8s-schema/check.py
sed 's/terminationGracePeriodSeconds:/terminationGracePeriodSecond:/' "$SRC/deploy/k8s/deployment.yaml" \
  >"$T/misspelt.yaml"
if python3 "$SCHEMA_CHECK" "$T/misspelt.yaml" >"$T/schema-neg.out" 2>&1 ||
  ! grep -q 'terminationGracePeriodSecond: no such field' "$T/schema-neg.out"; then
  cat "$T/schema-neg.out" >&2
  fail "the schema check does not catch a misspelt field"
fi
mapfile -t manifests < <(find "$SRC/deploy/k8s" -name '*.yaml' ! -name kustomization.yaml | sort)
python3 "$SCHEMA_CHECK" "${manifests[@]}" >"$T/schema.out" 2>&1 || {
  cat "$T/schema.out" >&2
  fail "deploy/k8s does not match the Kubernetes API schema (above)"
}
log "$(cat "$T/schema.out")"

# ---- kustomize (optional: kubectl is not a dependency) ----------------------
if command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
  kubectl kustomize "$SRC/deploy/k8s" >"$T/kustomized.yaml" 2>&1 ||
    fail "kubectl kustomize deploy/k8s: $(cat "$T/kustomized.yaml")"
  python3 -c 'import sys, yaml; n = sum(1 for d in yaml.safe_load_all(open(sys.argv[1])) if d); print(n)' \
    "$T/kustomized.yaml" >"$T/kustomized.n"
  log "k8s: kubectl kustomize renders $(cat "$T/kustomized.n") objects"
else
  log "note: kubectl not installed: kustomization.yaml checked by parsing only"
fi

# ---- no secret anywhere -------------------------------------------------------
if grep -l -F -- "$SECRET" "$T"/*.out; then
  fail "the secret appears in the output above"
fi
log "PASS"
