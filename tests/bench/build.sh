# tests/bench/build.sh: sourced by the benchmark scripts (run.sh, tls.sh,
# scale.sh, batch.sh, eos.sh) before they start anything.
#
#   bench_build NAME   builds cxone-worker, cxonectl and cxone-sim into
#                      $BUILD (RelWithDebInfo) when BUILD_IT is 1, stops
#                      with NAME's message when one is missing from $BIN,
#                      and raises the open-file limit for many connections.

bench_build() { # NAME
  local p
  if [ "$BUILD_IT" -eq 1 ]; then
    echo "== build (RelWithDebInfo) into $BUILD"
    cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD" -j"$(nproc 2>/dev/null || echo 2)" \
      --target cxone-worker cxonectl cxone-sim >/dev/null
  fi
  for p in cxone-worker cxonectl cxone-sim; do
    [ -x "$BIN/$p" ] || { echo "$1: $BIN/$p missing (build failed?)" >&2; exit 1; }
  done
  ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}
