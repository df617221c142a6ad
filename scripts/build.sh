#!/usr/bin/env bash
# Release build: the hydrate wasm/JS + CSS into target/site and the server binary, which is then
# placed at target/release/server (the path the platform contract promises).
#
#   bash scripts/build.sh            # setup + cargo leptos build --release
#
# Why the copy: the workspace builds the server with bin-profile-release = "server-release", so
# cargo puts it at $CARGO_TARGET_DIR/server-release/server, and CARGO_TARGET_DIR defaults to a
# shared cache folder (see scripts/env.sh). The site stays at <repo>/target/site either way.
set -euo pipefail

# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$NOTIFY_ROOT"

bash scripts/setup.sh

echo "build: cargo leptos build --release (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
cargo leptos build --release

bin_name="$(notify_leptos_setting bin-exe-name "$(notify_leptos_setting bin-package server)")"
profile="$(notify_leptos_setting bin-profile-release release)"
built="$(notify_target_dir)/$profile/$bin_name"
wanted="$NOTIFY_ROOT/target/release/$bin_name"
[ -x "$built" ] || { echo "build: ERROR: expected server binary at $built" >&2; exit 1; }

mkdir -p "$(dirname "$wanted")"
if [ ! "$built" -ef "$wanted" ]; then
  # Copy then rename, so a server still running from the old file is not disturbed.
  cp -f "$built" "$wanted.tmp.$$"
  mv -f "$wanted.tmp.$$" "$wanted"
fi
echo "build: server binary: target/release/$bin_name; site: $(notify_leptos_setting site-root target/site)"
