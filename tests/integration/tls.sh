# TLS helpers for the integration tests: a throw-away CA and a server
# certificate for loopback, made with the openssl CLI. Source it (after
# lib.sh or on its own) and call make_test_ca.

# make_test_ca DIR: writes into DIR (created if missing) a CA (ca.pem, its
# key ca.key) and a server certificate it signed (server.pem, server.key)
# for subjectAltName IP:127.0.0.1 and DNS:localhost, valid for 2 days, EC
# P-256 keys, unencrypted. Exports TLS_CA, TLS_CERT and TLS_KEY (the paths)
# and prints them, one "NAME=PATH" a line. Returns non-zero (with openssl's
# message on stderr) if openssl fails.
make_test_ca() {
  local dir=${1:?make_test_ca DIR}
  mkdir -p "$dir" || return 1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 -subj "/CN=cxone-sim test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$dir/openssl.err" || {
    cat "$dir/openssl.err" >&2
    return 1
  }
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=127.0.0.1" \
    2>"$dir/openssl.err" || {
    cat "$dir/openssl.err" >&2
    return 1
  }
  cat >"$dir/server.ext" <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EXT
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -out "$dir/server.pem" -days 2 -extfile "$dir/server.ext" \
    2>"$dir/openssl.err" || {
    cat "$dir/openssl.err" >&2
    return 1
  }
  chmod 600 "$dir/ca.key" "$dir/server.key"
  export TLS_CA="$dir/ca.pem" TLS_CERT="$dir/server.pem" TLS_KEY="$dir/server.key"
  printf 'TLS_CA=%s\nTLS_CERT=%s\nTLS_KEY=%s\n' "$TLS_CA" "$TLS_CERT" "$TLS_KEY"
}
