#!/usr/bin/env bash
# The pure matching module, single thread, one book: places, crossing
# orders, picks and cancels (server/examples/bench_matching.rs). Goal in
# issue 13: at least 1,000,000 operations/s. Usage:
#   scripts/bench-matching.sh [operations]   # default 5,000,000, 3 runs
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p tanpuhui-server --example bench_matching
for run in 1 2 3; do
  ./target/release/examples/bench_matching "${1:-5000000}"
done
