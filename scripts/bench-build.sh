#!/usr/bin/env bash
# Times a newcomer's first release build of the server: `cargo build
# --release --bin tanpuhui` into an empty target directory (crates already
# downloaded; on a fresh machine add the download). Prints the seconds and
# keeps nothing.
#   BENCH_BUILD_KEEP=dir  keep the target directory there (to reuse the binary)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${BENCH_BUILD_KEEP:-$(mktemp -d)}
[[ -n ${BENCH_BUILD_KEEP:-} ]] || trap 'rm -rf "$target"' EXIT
cargo fetch --quiet
start=$(date +%s)
CARGO_TARGET_DIR=$target cargo build --quiet --release --bin tanpuhui
end=$(date +%s)
echo "clean release build of tanpuhui: $((end - start)) s on $(nproc) cores ($(rustc --version))"
