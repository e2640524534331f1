#!/usr/bin/env bash
# Times the first `cargo xtask serve` as a new user meets it (issue 20): a
# fresh clone, an empty CARGO_HOME (every crate downloaded from crates.io),
# no target/, no node_modules; then the second start. Prints seconds until
# the server says it is listening. Usage: tests/bench/first-serve.sh [DIR]
# (DIR default /tmp/kasir-first-serve; it is deleted first). Needs rustup's
# toolchain and Node's npm, nothing else. BENCHMARKS.md has the figures.
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${1:-/tmp/kasir-first-serve}"
rm -rf "$dir" && git clone -q "$src" "$dir/kasir"
export CARGO_HOME="$dir/cargo-home" KASIR_LISTEN=127.0.0.1:18181
cd "$dir/kasir"
time_to_listen() {
  local log="$1" start pid
  start=$(date +%s.%N)
  cargo xtask serve >"$log" 2>&1 &
  pid=$!
  until grep -q "Kasir is listening" "$log"; do
    sleep 0.2
    kill -0 "$pid" 2>/dev/null || { echo "serve stopped: see $log" >&2; exit 1; }
  done
  echo "$(date +%s.%N) - $start" | bc
  pkill -INT -f "target/debug/kasir-server" || true
  wait "$pid" 2>/dev/null || true
}
first=$(time_to_listen "$dir/first.log")
grep "==>.*ok (" "$dir/first.log" || true
second=$(time_to_listen "$dir/second.log")
echo "first serve: ${first} s; second serve: ${second} s"
