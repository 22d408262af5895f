#!/usr/bin/env bash
# ctest-label: asan
# cxone-worker's command line: --check-config lists every problem with
# file:line and exits 1, accepts the shipped example with a secret, never
# prints the secret; --version and --help work; a bad URL or a missing secret
# is a clear error at start, not a crash later; --help lists every env
# override of src/lib/base/config_table.c, --print-config marks the values they set.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
W="$CXW_BIN/cxone-worker"

"$W" --version | grep -q '^cxone-worker ' || fail "--version"
"$W" --help | grep -q -- '--check-config' || fail "--help"

"$W" --check-config -c "$CXW_SRC/config/cxone-worker.conf" >"$T/ok.out" 2>&1 || fail "example config rejected: $(cat "$T/ok.out")"

cat >"$T/bad.conf" <<'CONF'
kafka = { group_id = ""; };
cxone = {
  base_url = "ftp://nowhere";
  contacts = { path = "/api/v2/contacts"; };
};
http = { max_in_flight = 0;
  max_inflight = 3; };
CONF
rc=0
"$W" --check-config -c "$T/bad.conf" >"$T/bad.out" 2>&1 || rc=$?
cat "$T/bad.out" >&2
[ $rc -eq 1 ] || fail "--check-config on a bad file exited $rc, expected 1"
grep -q "bad.conf:3:.*base_url" "$T/bad.out" || fail "bad URL not reported with its line"
grep -q "bad.conf:6:.*max_in_flight" "$T/bad.out" || fail "range error not reported with its line"
grep -q "bad.conf:7:.*max_inflight" "$T/bad.out" || fail "unknown key not reported with its line"
grep -q "contactId" "$T/bad.out" || fail "path without {contactId} not reported"

rc=0
env -u CXONE_CLIENT_SECRET "$W" --check-config >"$T/nosecret.out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q "client_secret" "$T/nosecret.out" || fail "missing secret not reported"

rc=0
"$W" --check-config -c "$T/does-not-exist.conf" >"$T/missing.out" 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "a missing file is not an error"

# --help lists every environment variable src/lib/base/config_table.c reads (the names in
# its property table) and says it runs schedule imports.
"$W" --help >"$T/help.out" || fail "--help"
envs=$(grep -oE '"(KAFKA|CXONE)_[A-Z0-9_]+"' "$CXW_SRC/src/lib/base/config_table.c" | tr -d '"' | sort -u)
[ "$(wc -l <<<"$envs")" -ge 10 ] || fail "found only $(wc -l <<<"$envs") env names in src/lib/base/config_table.c"
for e in $envs; do
  grep -qw -- "$e" "$T/help.out" || fail "--help does not mention $e"
done
grep -q "schedule-import" "$T/help.out" || fail "--help does not mention schedule imports"

# --print-config marks what the environment set, and only that.
CXONE_WEBHOOK_SECRET=hook-$$-do-not-log KAFKA_GROUP_ID=env-group \
  "$W" --print-config -c "$CXW_SRC/config/cxone-worker.conf" >"$T/print.out" 2>&1 || fail "--print-config"
grep -qx 'kafka.group_id = "env-group"  # env KAFKA_GROUP_ID' "$T/print.out" || fail "KAFKA_GROUP_ID not marked"
grep -qx 'webhooks.secret = (set)  # env CXONE_WEBHOOK_SECRET' "$T/print.out" || fail "CXONE_WEBHOOK_SECRET not marked"
grep -qx 'cxone.client_secret = (set)  # env CXONE_CLIENT_SECRET' "$T/print.out" || fail "CXONE_CLIENT_SECRET not marked"
grep -qx 'http.max_in_flight = 64' "$T/print.out" || fail "a file value is marked"
check nosecret "$T"/*.out --secret "hook-$$-do-not-log"
check nosecret "$T"/*.out --secret "$CXONE_CLIENT_SECRET"
log "PASS"
