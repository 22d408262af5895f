#!/usr/bin/env bash
# tests/container/run.sh: the container image and the compose stack, built
# and run for real with podman (opt-in: tests/run.sh --container; not in the
# default suite). As root on Debian 12:
#   1. installs podman, runc, debootstrap and docker-compose (v1) if missing;
#   2. makes the debian:bookworm base by debootstrap if podman lacks it
#      (tests/container/base-image.sh; kept in podman's storage between runs);
#   3. builds deploy/docker/Dockerfile (its builder runs ctest -L unit);
#   4. runs, all from that image on the host network (127.0.0.1):
#      cxonectl dev-kafka, cxone-sim, two cxone-worker replicas, cxonectl:
#      - the sample CSV's and the sample schedules' exact summaries;
#      - /metrics, /readyz, /healthz of the containerized workers;
#      - the workers run as uid 10001 (user cxone), PID 1;
#      - the secret read from a mounted file, mode 0400 owned by 10001 (as
#        docs/deployment.md says), and refused (named, not printed) when the
#        file is root's 0600;
#      - nothing written outside declared volumes: one worker runs with a
#        read-only root and no tmpfs at all, the other's `podman diff` is empty
#        but for the runtime's own mount points;
#      - SIGTERM with requests in flight (a slow simulator): the worker drains
#        and exits 0 within `podman stop -t 45`;
#      - the Kubernetes ConfigMap's config passes --check-config in the image;
#   5. brings deploy/docker/compose.local.yaml up with docker-compose against
#      podman's Docker API socket, imports the sample, checks the summary and
#      brings it down.
# Every wait is bounded. Containers and the socket are this run's own and
# removed at the end (KEEP=1 keeps the logs directory).
#
#   tests/container/run.sh [--skip-compose]
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
skip_compose=0
for a in "$@"; do
  case "$a" in
  --skip-compose) skip_compose=1 ;;
  -h | --help)
    sed -n '2,32p' "$0"
    exit 0
    ;;
  *)
    echo "run.sh: unknown argument $a" >&2
    exit 2
    ;;
  esac
done

export CONTAINERS_CONF=$root/tests/container/containers.conf
IMAGE=localhost/cxone-worker:test
T=$(mktemp -d "${TMPDIR:-/tmp}/cxone-container.XXXXXX")
P=cxct$$ # prefix of this run's container names
started=()
svc_pid=""
compose_up=0
pass=0
t0=$(date +%s)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() {
  log "FAIL: $*"
  exit 1
}
ok() {
  pass=$((pass + 1))
  log "ok: $*"
}

cleanup() {
  set +e
  if [ $compose_up -eq 1 ]; then
    compose_down >"$T/compose-down.log" 2>&1
  fi
  for c in "${started[@]}"; do
    podman rm -f -t 5 "$c" >/dev/null 2>&1
  done
  if [ -n "$svc_pid" ]; then
    kill "$svc_pid" 2>/dev/null
    wait "$svc_pid" 2>/dev/null
  fi
  if [ "${KEEP:-0}" = 1 ]; then log "logs kept in $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

# ---- 1. tools ---------------------------------------------------------------
need=()
for t in podman runc debootstrap; do command -v $t >/dev/null || need+=("$t"); done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >/dev/null
fi
if [ $skip_compose -eq 0 ] && ! command -v docker-compose >/dev/null; then
  # Without recommends: they would pull in a Docker engine.
  log "installing docker-compose"
  apt-get update >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker-compose >/dev/null
fi

# ---- 2. base image ------------------------------------------------------------
tests/container/base-image.sh >&2

# ---- 3. build -------------------------------------------------------------------
log "podman build -f deploy/docker/Dockerfile (the builder runs ctest -L unit)"
b0=$(date +%s)
podman build -f deploy/docker/Dockerfile -t "$IMAGE" -t localhost/cxone-worker:local . >"$T/build.log" 2>&1 || {
  tail -n 40 "$T/build.log" >&2
  fail "podman build"
}
build_s=$(($(date +%s) - b0))
grep -q '100% tests passed' "$T/build.log" || fail "the build log shows no passing unit tests"
units=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$T/build.log" | tail -n 1)
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
ok "image built in ${build_s} s (unit tests in the builder: ${units}/${units} passed), $((size / 1000000)) MB"

user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
[ "$user" = "10001:10001" ] || fail "image USER is '$user', expected 10001:10001"
podman run --rm --entrypoint dpkg-query "$IMAGE" -W -f '${Package}\n' >"$T/pkgs"
if grep -E -e '-dev$' -e '^(gcc|cpp|make|cmake|curl|wget)(-[0-9]+)?$' "$T/pkgs"; then
  fail "the image holds build tools or curl (above)"
fi
ok "image: USER $user, $(wc -l <"$T/pkgs") packages, no -dev, compiler or curl"

# ---- helpers ------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# first_line CONTAINER: the first line of its stdout, waiting at most 30 s
first_line() {
  local i l
  for i in $(seq 1 60); do
    l=$(podman logs "$1" 2>/dev/null | head -n 1)
    [ -n "$l" ] && {
      echo "$l"
      return 0
    }
    sleep 0.5
  done
  podman logs "$1" >&2 || true
  fail "nothing on the stdout of $1"
}

# http PORT PATH: prints "CODE" and writes the body to $T/body (curl on the host)
http() { curl -s -m 5 -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$1$2" || true; }

# wait_http PORT PATH CODE SECONDS
wait_http() {
  local i
  for i in $(seq 1 $(($4 * 2))); do
    [ "$(http "$1" "$2")" = "$3" ] && return 0
    sleep 0.5
  done
  fail "GET :$1$2 did not answer $3 within $4 s (last: $(cat "$T/body" 2>/dev/null))"
}

# metric PORT NAME_AND_LABELS: the value of one sample of /metrics
metric() {
  http "$1" /metrics >/dev/null
  awk -v m="$2" '$1 == m { print $2 }' "$T/body" | head -n 1
}

run_ctr() { # NAME podman-run-args...: a detached container of this run
  local name=$1
  shift
  started+=("$name")
  podman run -d --name "$name" --network host "$@" >/dev/null
}

# ---- 4. the programs in containers, on the host network --------------------------
CLIENT_ID=container-test
SECRET="container-test-secret-$$-not-logged"
run_ctr "$P-kafka" --entrypoint cxonectl "$IMAGE" dev-kafka --partitions 6
BOOT=$(first_line "$P-kafka")
run_ctr "$P-sim" --entrypoint cxone-sim "$IMAGE" --listen 127.0.0.1:0 --client-id "$CLIENT_ID" \
  --client-secret "$SECRET" --latency-ms 30 --latency-jitter-ms 20 \
  --unknown-contact-prefix unknown- --job-duration-ms 1500
SIM=$(first_line "$P-sim")
SIM=${SIM#listening on }
ok "dev-kafka at $BOOT, cxone-sim at $SIM (containers)"

# The secret as docs/deployment.md says: a file only uid 10001 can read, mounted read-only.
mkdir -p "$T/secrets"
printf '%s\n' "$SECRET" >"$T/secrets/client-secret"
chown 10001:10001 "$T/secrets/client-secret"
chmod 0400 "$T/secrets/client-secret"
install -m 0600 -o 0 -g 0 "$T/secrets/client-secret" "$T/secrets/root-only"
rc=0
podman run --rm --network host -e CXONE_CLIENT_ID="$CLIENT_ID" -e CXONE_CLIENT_SECRET_FILE=/run/secrets/cxone \
  -v "$T/secrets/root-only:/run/secrets/cxone:ro" "$IMAGE" --check-config >"$T/rootonly.out" 2>&1 || rc=$?
[ $rc -ne 0 ] && grep -q "cannot read '/run/secrets/cxone': Permission denied" "$T/rootonly.out" ||
  fail "a root-only 0600 secret file was not refused by name: $(cat "$T/rootonly.out")"
ok "a root-owned 0600 secret is refused (uid 10001 cannot read it), naming the file"

worker_args=(-e KAFKA_BOOTSTRAP_SERVERS="$BOOT" -e CXONE_BASE_URL="$SIM" -e CXONE_CLIENT_ID="$CLIENT_ID"
  -e CXONE_CLIENT_SECRET_FILE=/run/secrets/cxone -v "$T/secrets/client-secret:/run/secrets/cxone:ro")
A1=$(free_port)
A2=$(free_port)
# Worker 1: read-only root and no tmpfs anywhere: it can write no file at all.
run_ctr "$P-w1" --hostname "$P-w1" --read-only --read-only-tmpfs=false "${worker_args[@]}" \
  -e CXONE_WORKER_ADMIN_LISTEN=127.0.0.1:"$A1" "$IMAGE"
# Worker 2: an ordinary container; `podman diff` below lists what it wrote.
run_ctr "$P-w2" --hostname "$P-w2" "${worker_args[@]}" -e CXONE_WORKER_ADMIN_LISTEN=127.0.0.1:"$A2" "$IMAGE"
wait_http "$A1" /readyz 200 60
wait_http "$A2" /readyz 200 60
wait_http "$A1" /healthz 200 5
ok "both workers answer /readyz 200 (Kafka and a token from the mounted secret) and /healthz 200"

for c in "$P-w1" "$P-w2"; do
  top=$(podman top "$c" huser user pid comm | tail -n +2)
  echo "$top" | awk '$1 == "10001" && $2 == "cxone" && $3 == "1" && $4 == "cxone-worker" { f = 1 } END { exit !f }' ||
    fail "$c: not cxone-worker as uid 10001 PID 1: $top"
done
ok "the workers run as uid 10001 (cxone), cxone-worker is PID 1"

ctl() { # cxonectl ARGS... in a container, stdout to $T/ctl.out, stderr $T/ctl.err; returns its code
  local rc=0
  podman run --rm --network host -e KAFKA_BOOTSTRAP_SERVERS="$BOOT" --entrypoint cxonectl "$IMAGE" \
    -c /etc/cxone-worker/cxone-worker.conf "$@" >"$T/ctl.out" 2>"$T/ctl.err" || rc=$?
  return $rc
}

# The expected summaries are the README's sample run (one text for the demo,
# its test and this one).
for n in 1 2; do
  python3 tests/tools/readme_summary.py README.md $n >"$T/readme.$n"
done
s0=$(date +%s)
rc=0
ctl contacts import /usr/share/cxone-worker/samples/contacts.csv --wait --timeout 120 || rc=$?
[ $rc -eq 3 ] || fail "contacts import exited $rc (3 expected: some rows rejected on purpose): $(cat "$T/ctl.out" "$T/ctl.err")"
tail -n +2 "$T/ctl.out" >"$T/contacts.summary"
diff -u "$T/readme.1" "$T/contacts.summary" >&2 || fail "the sample CSV's summary differs (above)"
grep -q 'produced 19, skipped 2' "$T/ctl.err" || fail "cxonectl did not report 'produced 19, skipped 2'"
ok "sample CSV: exact summary (Succeeded 16 | Rejected 3 | Failed 0, 2 rows skipped) in $(($(date +%s) - s0)) s"

s0=$(date +%s)
rc=0
ctl schedules import /usr/share/cxone-worker/samples/schedules.json --wait --timeout 120 || rc=$?
[ $rc -eq 3 ] || fail "schedules import exited $rc (3 expected): $(cat "$T/ctl.out" "$T/ctl.err")"
tail -n +2 "$T/ctl.out" >"$T/schedules.summary"
diff -u "$T/readme.2" "$T/schedules.summary" >&2 || fail "the sample schedules' summary differs (above)"
ok "sample schedules: exact summary (Succeeded 3 | Rejected 4 | Failed 0) in $(($(date +%s) - s0)) s"

# /metrics of both: 16 + 3 + 3 + 4 outcomes between them (2 updates of one contact are 2 outcomes)
sum=0
for a in "$A1" "$A2"; do
  [ "$(http "$a" /metrics)" = 200 ] || fail "/metrics on $a"
  grep -q '^# TYPE cxw_requests_in_flight gauge' "$T/body" || fail "/metrics on $a: no cxw_requests_in_flight"
  n=$(awk '/^cxw_outcomes_total\{/ { s += $2 } END { print s + 0 }' "$T/body")
  sum=$((sum + n))
done
[ "$sum" -eq 26 ] || fail "cxw_outcomes_total of the two workers adds up to $sum, expected 26 (19 contacts + 7 imports)"
ok "/metrics of the containers: cxw_outcomes_total adds up to 26 (19 updates + 7 imports)"

# Nothing written: worker 1 could not (read-only root, no tmpfs) and ran all the
# above; worker 2's changes, but for the runtime's own mount points, are none.
podman diff "$P-w2" >"$T/diff"
grep -v -E '^[AC] /(etc|etc/hosts|etc/hostname|etc/resolv.conf|run|run/secrets|run/secrets/cxone|run/.containerenv)$' \
  "$T/diff" >"$T/diff.own" || true
[ ! -s "$T/diff.own" ] || fail "the worker wrote to its image's filesystem: $(cat "$T/diff.own")"
ok "no file written: w1 ran on a read-only root without tmpfs; w2's podman diff shows only runtime mount points ($(paste -sd' ' "$T/diff"))"

# SIGTERM with requests in flight: a third replica (its own group) against a slow simulator.
run_ctr "$P-slowsim" --entrypoint cxone-sim "$IMAGE" --listen 127.0.0.1:0 --client-id "$CLIENT_ID" \
  --client-secret "$SECRET" --latency-ms 4000
SLOW=$(first_line "$P-slowsim")
SLOW=${SLOW#listening on }
A3=$(free_port)
run_ctr "$P-w3" --hostname "$P-w3" --read-only "${worker_args[@]}" -e CXONE_BASE_URL="$SLOW" \
  -e KAFKA_GROUP_ID=cxone-drain-test -e CXONE_WORKER_ADMIN_LISTEN=127.0.0.1:"$A3" "$IMAGE"
wait_http "$A3" /readyz 200 60
# A new group starts at the topic's beginning: the sample's 19 updates, each 4 s at the simulator.
inflight=0
for _ in $(seq 1 60); do
  inflight=$(metric "$A3" cxw_requests_in_flight)
  [ "${inflight:-0}" -gt 0 ] 2>/dev/null && break
  sleep 0.5
done
[ "${inflight:-0}" -gt 0 ] 2>/dev/null || fail "the drain test's worker never had a request in flight"
d0=$(date +%s%N)
podman stop -t 45 "$P-w3" >/dev/null
drain_ms=$((($(date +%s%N) - d0) / 1000000))
code=$(podman inspect --format '{{.State.ExitCode}}' "$P-w3")
podman logs "$P-w3" >"$T/w3.log" 2>&1
[ "$code" = 0 ] || fail "the worker exited $code after SIGTERM: $(tail -n 5 "$T/w3.log")"
grep -q '"msg":"stopped: .*in flight 0"' "$T/w3.log" || fail "no 'stopped: ... in flight 0' line: $(tail -n 5 "$T/w3.log")"
grep -q '"msg":"exit 0"' "$T/w3.log" || fail "no 'exit 0' line"
[ "$drain_ms" -lt 45000 ] || fail "the drain took $drain_ms ms, not within the 45 s grace period"
done_line=$(grep -o '"msg":"stopped: consumed [0-9]*, succeeded [0-9]*' "$T/w3.log" | sed 's/"msg":"stopped: //')
ok "SIGTERM with $inflight requests in flight (4 s each): drained ($done_line), exit 0 after $drain_ms ms (< 45 s grace)"

for c in "$P-w1" "$P-w2"; do
  d0=$(date +%s)
  podman stop -t 45 "$c" >/dev/null
  code=$(podman inspect --format '{{.State.ExitCode}}' "$c")
  [ "$code" = 0 ] || fail "$c exited $code after SIGTERM"
done
ok "podman stop -t 45 of the two workers: exit 0"

# No secret in any container's output.
for c in "${started[@]}"; do podman logs "$c" >>"$T/all.log" 2>&1 || true; done
if grep -F -q -- "$SECRET" "$T/all.log" "$T/ctl.out" "$T/ctl.err" "$T/rootonly.out"; then
  # the simulator was given it on its command line on purpose, but never prints it
  fail "the client secret appears in a container's output"
fi
ok "the secret appears in no container's output"

# The Kubernetes ConfigMap's worker config, inside the image.
python3 - "$root/deploy/k8s/configmap.yaml" "$T" <<'PY'
import sys, yaml
docs = {d["metadata"]["name"]: d for d in yaml.safe_load_all(open(sys.argv[1])) if d}
open(sys.argv[2] + "/k8s.conf", "w").write(docs["cxone-worker-config"]["data"]["cxone-worker.conf"])
with open(sys.argv[2] + "/k8s.env", "w") as f:
    for k, v in docs["cxone-worker-env"]["data"].items():
        f.write(f"{k}={v}\n")
PY
rc=0
podman run --rm --network none --read-only --env-file "$T/k8s.env" \
  -e CXONE_CLIENT_SECRET_FILE=/var/run/secrets/cxone/client-secret \
  -v "$T/secrets/client-secret:/var/run/secrets/cxone/client-secret:ro" \
  -v "$T/k8s.conf:/etc/cxone-worker/cxone-worker.conf:ro" "$IMAGE" --check-config >"$T/k8s-check.out" 2>&1 || rc=$?
[ $rc -eq 0 ] || fail "the ConfigMap's config fails --check-config in the image: $(cat "$T/k8s-check.out")"
ok "deploy/k8s ConfigMap config + env + secret file pass cxone-worker --check-config in the image"

# ---- 5. compose.local.yaml with docker-compose against podman's socket -----------
if [ $skip_compose -eq 1 ]; then
  log "compose: skipped (--skip-compose)"
else
  sock=$T/podman.sock
  podman system service --time=0 "unix://$sock" >"$T/podman-service.log" 2>&1 &
  svc_pid=$!
  for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.2; done
  [ -S "$sock" ] || fail "podman system service did not create $sock"
  export DOCKER_HOST=unix://$sock
  dc() { timeout 300 docker-compose -p "$P" -f deploy/docker/compose.local.yaml "$@"; }
  # docker-compose v1 removes the containers in parallel, and podman refuses
  # to remove kafka while the containers in its network namespace exist: stop
  # all (SIGTERM, 45 s), remove those first, then down.
  compose_down() {
    dc stop -t 45 && dc rm -f -s worker-1 worker-2 cxone-sim && dc down -v -t 10
  }
  for f in compose.yaml compose.local.yaml; do
    timeout 60 docker-compose -f "deploy/docker/$f" config -q || fail "docker-compose config: deploy/docker/$f is not valid"
  done
  ok "docker-compose $(docker-compose version --short) accepts compose.yaml and compose.local.yaml"
  s0=$(date +%s)
  compose_up=1
  dc up -d --no-build >"$T/compose-up.log" 2>&1 || {
    cat "$T/compose-up.log" >&2
    fail "docker-compose up"
  }
  rc=0
  dc run --rm -T cxonectl contacts import /usr/share/cxone-worker/samples/contacts.csv --wait --timeout 120 \
    >"$T/compose-ctl.out" 2>"$T/compose-ctl.err" || rc=$?
  if [ $rc -ne 3 ]; then
    dc logs --no-color >"$T/compose.log" 2>&1 || true
    tail -n 30 "$T/compose.log" >&2
    fail "compose: contacts import exited $rc: $(cat "$T/compose-ctl.out" "$T/compose-ctl.err")"
  fi
  tail -n +2 "$T/compose-ctl.out" >"$T/compose.summary"
  diff -u "$T/readme.1" "$T/compose.summary" >&2 || fail "compose: the summary differs (above)"
  declare -A cid
  for w in worker-1 worker-2; do
    c=$(podman ps -q --filter "label=com.docker.compose.project=$P" --filter "label=com.docker.compose.service=$w")
    [ -n "$c" ] || fail "compose: no running $w"
    podman healthcheck run "$c" >/dev/null 2>&1 || fail "compose: podman healthcheck run $w fails"
    podman logs "$c" 2>&1 | grep -q "started as $w" || fail "compose: $w does not run as worker.id $w"
    cid[$w]=$c
  done
  up_s=$(($(date +%s) - s0))
  d0=$(date +%s)
  dc stop -t 45 >"$T/compose-stop.log" 2>&1 || fail "docker-compose stop: $(cat "$T/compose-stop.log")"
  for w in worker-1 worker-2; do
    code=$(podman inspect --format '{{.State.ExitCode}}' "${cid[$w]}")
    [ "$code" = 0 ] || fail "compose: $w exited $code on stop"
  done
  compose_down >"$T/compose-down.log" 2>&1 || fail "docker-compose down: $(cat "$T/compose-down.log")"
  compose_up=0
  ok "compose.local.yaml: up, sample CSV exact summary, healthchecks pass (podman healthcheck run), workers worker-1/-2 ($up_s s); stop (exit 0) and down -v in $(($(date +%s) - d0)) s"
fi

log "PASS: $pass checks in $(($(date +%s) - t0)) s"
echo "$pass passed, 0 failed"
