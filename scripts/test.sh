#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs what it needs
# (idempotently), lints, runs the Rust tests, builds the WebAssembly packages
# and runs the Node and headless-browser tests. Any failure fails the run.
#
# Optional: TEST_DATABASE_URL / TEST_REDIS_URL (set by .ci/run) for the suites
# that talk to PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: wasm32 target, clippy, rustfmt"
installed_targets=$(rustup target list --installed)
if ! grep -qx wasm32-unknown-unknown <<<"$installed_targets"; then
  rustup target add wasm32-unknown-unknown
fi
installed_components=$(rustup component list --installed)
for component in clippy rustfmt; do
  grep -q "^$component" <<<"$installed_components" || rustup component add "$component"
done

step "wasm-bindgen CLI matching the pinned crate"
pinned=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' Cargo.toml)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [[ "$have" != "$pinned" ]]; then
  # --locked fails against this registry's copy of the CLI's lock file.
  cargo install wasm-bindgen-cli --version "$pinned"
fi

step "Node packages (npm ci)"
npm ci --no-audit --no-fund

step "Chromium and CJK fonts for the browser tests"
missing=()
command -v chromium >/dev/null || missing+=(chromium)
# Without them Chinese renders as boxes in the console's screenshots.
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing Debian packages: ${missing[*]} (installing them needs root)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (native and wasm32)"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p carbon-calc --lib --target wasm32-unknown-unknown -- -D warnings

step "Rust tests"
cargo test --workspace

step "schemathesis: the real server against the spec it serves"
scripts/schemathesis.sh

step "a typed client generated from the spec compiles strictly and runs"
scripts/client-check.sh

step "WebAssembly packages"
scripts/build-wasm.sh
cargo build -p carbon-calc --bin carbon-calc

step "Node and browser tests of the WebAssembly package"
CARBON_CALC_BIN="$PWD/target/debug/carbon-calc" node --test tests/wasm/

step "the web console: vendored files, types against the spec, browser tests"
scripts/console-check.sh

step "all tests passed"
