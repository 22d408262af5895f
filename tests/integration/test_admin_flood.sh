#!/usr/bin/env bash
# ctest-label: asan
# Security finding 4: the admin port under a connection flood. 64 trickling
# connections from 127.0.0.1 (a byte of an endless header every second) do
# not keep /healthz and /readyz from another client (127.0.0.2: Linux routes
# all of 127.0.0.0/8 to lo) answering within a second: one client IP holds
# at most worker.admin_max_connections_per_client (8) of the 64. The
# trickling connections that got in are closed at the request deadline
# (3 s here), though each is never idle for 10 s; the rest at accept.
# Bounded: the flood lasts 9 s at most.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

start_kafka 1
start_sim
write_worker_conf "$T/w.conf" 'rate = { rps = 0.0; };
worker = { shutdown_deadline_ms = 10000; log_level = "info"; admin_request_deadline_ms = 3000; };'
CXONE_WORKER_ADMIN_LISTEN=127.0.0.1:0 start_worker w1 "$T/w.conf"
W=$LAST_PID
wait_until 20 grep -q '"admin listener on' "$T/w1.log" || fail "no admin listener"
PORT=$(grep -o 'admin listener on [^ ]* (port [0-9]*' "$T/w1.log" | grep -o '[0-9]*$')
grep -q '8 per client, 3000 ms per request' "$T/w1.log" || fail "limits not in the log"

python3 - "$PORT" <<'PY' || fail "the flood"
import errno, http.client, select, socket, sys, time
port = int(sys.argv[1])
N, DEADLINE, RUN = 64, 3.0, 9.0

socks, opened, closed = [], {}, {}
t0 = time.monotonic()
for i in range(N):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Trickle: ")
    except OSError as e:
        closed[i] = time.monotonic() - t0
    s.setblocking(False)
    socks.append(s)
    opened[i] = time.monotonic() - t0
print(f"flood: {N} connections from 127.0.0.1 opened in {time.monotonic() - t0:.2f} s")

def probe(path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0,
                                   source_address=("127.0.0.2", 0))
    t = time.monotonic()
    try:
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        return r.status, time.monotonic() - t
    except OSError as e:
        return f"error {e}", time.monotonic() - t
    finally:
        c.close()

ok = True
probes, last_byte = [], 0.0
while time.monotonic() - t0 < RUN and len(closed) < N:
    now = time.monotonic() - t0
    if now - last_byte >= 1.0:  # one byte a second on every open one
        last_byte = now
        for i, s in enumerate(socks):
            if i in closed:
                continue
            try:
                s.send(b"a")
            except OSError:
                closed[i] = now
    r, _, _ = select.select([s for i, s in enumerate(socks) if i not in closed], [], [], 0.1)
    for s in r:
        i = socks.index(s)
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if not data:
            closed[i] = time.monotonic() - t0
    if len(probes) < 2 * 8 and now > 0.5 + 0.5 * len(probes) / 2:
        for path in ("/healthz", "/readyz"):
            st, dt = probe(path)
            probes.append((path, st, dt))
            good = st in (200, 503) and dt < 1.0 and (path == "/readyz" or st == 200)
            print(f"check: {path} from 127.0.0.2 at {now:.1f} s: {st} in {dt * 1000:.0f} ms {'ok' if good else 'UNEXPECTED'}")
            ok &= good
for s in socks:
    s.close()

open_ = [i for i in range(N) if i not in closed]
lasted = sorted(closed[i] - opened[i] for i in closed)
late = [d for d in lasted if d >= DEADLINE - 0.5]
print(f"flood: {len(closed)} of {N} closed; {len(lasted) - len(late)} within 0.5 s"
      f" (over the per-client limit), {len(late)} at {min(late, default=0):.2f}-{max(late, default=0):.2f} s"
      f" (the request deadline, {DEADLINE:.0f} s)")
if open_:
    print(f"check: {len(open_)} trickling connections still open after {RUN:.0f} s UNEXPECTED")
    ok = False
if not late or len(late) > 8 or max(late) > DEADLINE + 1.5:
    print("check: the connections let in are closed at the deadline UNEXPECTED")
    ok = False
if len(probes) < 8:
    print(f"check: only {len(probes)} probes UNEXPECTED")
    ok = False
sys.exit(0 if ok else 1)
PY
metrics=$(curl -fsS --max-time 5 "http://127.0.0.1:$PORT/metrics") || fail "no /metrics"
grep -q '^cxw_admin_deadline_closes_total [1-9]' <<<"$metrics" || fail "deadline closes not counted"
grep '^cxw_admin_deadline_closes_total' <<<"$metrics" >&2
curl -fsS --max-time 2 "http://127.0.0.1:$PORT/healthz" >/dev/null || fail "/healthz after the flood"
stop_pid "$W" 30 || fail "worker did not exit 0"
log "PASS"
