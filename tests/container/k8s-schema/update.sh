#!/usr/bin/env bash
# update.sh: regenerates k8s-schema.json (test data of
# tests/integration/test_deploy_files.sh) from the npm packages below, with
# npm and node. Run it when deploy/k8s/ starts using another kind (add it to
# ROOTS in extract.mjs) or to check against newer API versions (raise the
# versions here), and commit the result. The test itself needs no network.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pkgs=(kubernetes-models@5.1.0 @kubernetes-models/apimachinery@3.0.2 @kubernetes-models/keda@2.0.0)
command -v npm >/dev/null && command -v node >/dev/null || {
  echo "update.sh: needs node and npm (Debian: apt-get install nodejs npm)" >&2
  exit 1
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/k8s-schema.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm init -y >/dev/null && npm install --no-audit --no-fund --ignore-scripts --loglevel=error "${pkgs[@]}" >/dev/null)
node "$here/extract.mjs" "$tmp/node_modules" "$here/k8s-schema.json"
