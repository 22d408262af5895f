#!/usr/bin/env bash
# Security review findings 7 and 8 at the command line (docs/security.md):
# http:// to a host that is not loopback is an error of --check-config naming
# the key and the fix, allowed by cxone.allow_insecure_http with a warning
# (in --check-config and in the log at start).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
W="$CXW_BIN/cxone-worker"
# Nothing listens there: the worker starts and keeps trying.
export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:1

# ---- finding 7: clear-text http:// ---------------------------------------
cat >"$T/remote.conf" <<'CONF'
cxone = {
  base_url = "http://cxone.example.com";
};
CONF
rc=0
"$W" --check-config -c "$T/remote.conf" >"$T/remote.out" 2>&1 || rc=$?
cat "$T/remote.out" >&2
[ $rc -eq 1 ] || fail "--check-config accepted http:// to a remote host (exit $rc)"
grep -q "remote.conf:2: cxone.base_url: .*clear text.*https://.*cxone.allow_insecure_http = true" \
  "$T/remote.out" || fail "the error does not name the key, the line and the fix"
rc=0
CXONE_TOKEN_URL=http://login.example.com/oauth/token CXONE_BASE_URL=https://cxone.example.com \
  "$W" --check-config >"$T/token.out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q "^CXONE_TOKEN_URL (cxone.token_url): .*cxone.allow_insecure_http" "$T/token.out" ||
  fail "an http:// token URL is not refused: $(cat "$T/token.out")"
# Loopback stays allowed, without a warning.
CXONE_BASE_URL=http://localhost:8080 "$W" --check-config >"$T/lo.out" 2>&1 ||
  fail "http:// to localhost refused: $(cat "$T/lo.out")"
! grep -q warning "$T/lo.out" || fail "a warning for loopback: $(cat "$T/lo.out")"
# Allowed: exit 0 and a warning, in --check-config and in the log at start.
CXONE_ALLOW_INSECURE_HTTP=true "$W" --check-config -c "$T/remote.conf" >"$T/allowed.out" 2>&1 ||
  fail "cxone.allow_insecure_http does not allow it: $(cat "$T/allowed.out")"
grep -q "^warning: cxone.base_url: 'http://cxone.example.com' is http://.*clear text" "$T/allowed.out" ||
  fail "no warning when allowed: $(cat "$T/allowed.out")"
CXONE_ALLOW_INSECURE_HTTP=true start_worker insecure "$T/remote.conf"
wait_until 20 grep -q '"level":"warn".*cxone.base_url.*clear text' "$T/insecure.log" ||
  fail "no warning in the log at start"
stop_pid "$LAST_PID" 30 || fail "the worker did not stop cleanly"

check nosecret "$T"/*.out "$T"/*.log --secret "$CXONE_CLIENT_SECRET"
log "PASS"
