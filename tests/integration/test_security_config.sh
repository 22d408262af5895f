#!/usr/bin/env bash
# Security review findings 7 and 8 at the command line (docs/security.md):
# http:// to a host that is not loopback is an error of --check-config naming
# the key and the fix, allowed by cxone.allow_insecure_http with a warning
# (in --check-config and in the log at start). --print-config hides
# librdkafka properties that hold secrets; a secret file readable by others
# is warned about; cxone-worker and cxonectl turn core dumps off unless
# worker.allow_core_dumps.
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

# ---- finding 8: --print-config, secret files, core dumps ------------------
cat >"$T/kafka.conf" <<'CONF'
kafka = {
  properties = [ "security.protocol=SASL_SSL", "sasl.password=Kafka-Pw-$$", "ssl.key.password=Key-Pw-77" ];
  consumer_properties = [ "sasl.oauthbearer.client.secret=Oauth-Cs-88" ];
};
CONF
"$W" --print-config -c "$T/kafka.conf" >"$T/print.out" 2>&1 || fail "--print-config: $(cat "$T/print.out")"
grep -q '"sasl.password=(set)", "ssl.key.password=(set)"' "$T/print.out" || fail "kafka.properties not hidden"
grep -q '"sasl.oauthbearer.client.secret=(set)"' "$T/print.out" || fail "consumer_properties not hidden"
for s in 'Kafka-Pw-' Key-Pw-77 Oauth-Cs-88; do
  ! grep -q -- "$s" "$T/print.out" || fail "--print-config shows $s"
done

printf 'File-Secret-%s\n' $$ >"$T/secret"
chmod 0644 "$T/secret"
env -u CXONE_CLIENT_SECRET CXONE_CLIENT_SECRET_FILE="$T/secret" "$W" --check-config >"$T/mode.out" 2>&1 ||
  fail "--check-config with a 0644 secret file: $(cat "$T/mode.out")"
grep -q "^warning: cxone.client_secret_file: '$T/secret' is readable by others (mode 0644)" "$T/mode.out" ||
  fail "no warning for a secret file readable by others: $(cat "$T/mode.out")"
chmod 0400 "$T/secret"
env -u CXONE_CLIENT_SECRET CXONE_CLIENT_SECRET_FILE="$T/secret" "$W" --check-config >"$T/mode400.out" 2>&1 ||
  fail "--check-config with a 0400 secret file"
! grep -q warning "$T/mode400.out" || fail "a warning for a 0400 secret file: $(cat "$T/mode400.out")"
chmod 0644 "$T/secret"
: >"$T/empty.conf"
start_worker modewarn "$T/empty.conf" env -u CXONE_CLIENT_SECRET CXONE_CLIENT_SECRET_FILE="$T/secret"
wait_until 20 grep -q '"level":"warn".*client_secret_file.*readable by others' "$T/modewarn.log" ||
  fail "no warning in the log at start for the secret file"
stop_pid "$LAST_PID" 30 || fail "the worker did not stop cleanly"

# Core dumps: RLIMIT_CORE 0 (from the highest soft limit the shell may set)
# and not dumpable; worker.allow_core_dumps leaves them.
ulimit -S -c "$(ulimit -H -c)"
core_limit() { awk '/^Max core file size/ {print $5 " " $6}' "/proc/$1/limits"; }
echo 'worker = { allow_core_dumps = true; };' >"$T/cores.conf"
"$CXW_BIN/cxonectl" dev-kafka --partitions 1 >"$T/ctlk.out" 2>"$T/ctlk.log" &
CTLK=$!
PIDS+=($CTLK)
first_line "$T/ctlk.out" 30 >/dev/null || fail "dev-kafka did not start"
[ "$(core_limit $CTLK)" = "0 0" ] || fail "cxonectl: core limit $(core_limit $CTLK), expected 0 0"
stop_pid $CTLK 30 || true
start_worker cores "$T/remote.conf" env CXONE_BASE_URL=http://127.0.0.1:1
wait_until 10 grep -q . "/proc/$LAST_PID/limits"
wait_until 10 eval '[ "$(core_limit '"$LAST_PID"')" = "0 0" ]' ||
  fail "cxone-worker: core limit $(core_limit "$LAST_PID"), expected 0 0"
stop_pid "$LAST_PID" 30 || fail "the worker did not stop cleanly"
if [ "$(ulimit -c)" != 0 ]; then
  start_worker cores-on "$T/cores.conf"
  sleep 1
  [ "$(core_limit "$LAST_PID")" != "0 0" ] || fail "worker.allow_core_dumps = true: core dumps still off"
  stop_pid "$LAST_PID" 30 || fail "the worker did not stop cleanly"
else
  log "note: the hard core limit is 0 here: worker.allow_core_dumps not checked"
fi
# Not dumpable: /proc/PID belongs to root then, even for another user's process.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  env -u CXONE_CLIENT_SECRET_FILE setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$CXW_BIN/cxone-worker" 2>"$T/nobody.log" &
  NB=$!
  PIDS+=($NB)
  sleep 1
  [ "$(stat -c %u "/proc/$NB/status")" = 0 ] || fail "cxone-worker is still dumpable (/proc/$NB owned by $(stat -c %u "/proc/$NB/status"))"
  stop_pid $NB 30 || true
  setpriv --reuid=65534 --regid=65534 --clear-groups "$CXW_BIN/cxonectl" dev-kafka --partitions 1 \
    >"$T/nbk.out" 2>"$T/nbk.log" &
  NB=$!
  PIDS+=($NB)
  first_line "$T/nbk.out" 30 >/dev/null || fail "dev-kafka as nobody did not start"
  [ "$(stat -c %u "/proc/$NB/status")" = 0 ] || fail "cxonectl is still dumpable"
  stop_pid $NB 30 || true
else
  log "note: not root or no setpriv: PR_SET_DUMPABLE not checked"
fi

check nosecret "$T"/*.out "$T"/*.log --secret "$CXONE_CLIENT_SECRET" --secret "File-Secret-$$" \
  --secret "Kafka-Pw-$$" --secret Key-Pw-77 --secret Oauth-Cs-88
log "PASS"
