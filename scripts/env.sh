# shellcheck shell=bash
# Common environment for the scripts in this folder. Source it, don't run it:
#   source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
#
# It sets:
#   NOTIFY_ROOT        absolute path of the repository root
#   PATH               + ~/.cargo/bin (cargo, cargo-leptos, wasm-bindgen)
#                      + .tools/node_modules/.bin (wasm-opt from the npm package `binaryen`)
#   CARGO_TARGET_DIR   default $HOME/.cache/notify-target (see below)
#   PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 (the browser tests use the system Chromium)
#
# CARGO_TARGET_DIR and cargo-leptos (0.3):
#   * Compiled artifacts go to $CARGO_TARGET_DIR, which defaults to a cache folder outside the
#     repository so that every CI clone reuses the dependencies compiled by the previous one.
#     Set CARGO_TARGET_DIR yourself (e.g. CARGO_TARGET_DIR=target) to keep them in the clone.
#   * cargo-leptos asks `cargo metadata` for the target directory, so it honours
#     CARGO_TARGET_DIR for the server binary ($CARGO_TARGET_DIR/<profile>/server), for the wasm
#     build ($CARGO_TARGET_DIR/front/wasm32-unknown-unknown/<profile>/) and its tmp files.
#   * The site (the hydrate JS/wasm in pkg/, the CSS, public/) is NOT moved: the workspace's
#     `site-root = "target/site"` is a plain relative path, which cargo-leptos resolves against
#     the workspace root (only a site-root starting with the literal `CARGO_TARGET_DIR/` would
#     follow the target dir). So the site is always <repo>/target/site, and cargo-leptos
#     compiles the server with LEPTOS_SITE_ROOT=target/site, which is also Leptos' own
#     default. A server started from the repo root therefore finds its site whatever
#     CARGO_TARGET_DIR is.
#   * The release server binary lands in $CARGO_TARGET_DIR/server-release/server (the workspace
#     sets bin-profile-release = "server-release"). scripts/build.sh copies it to
#     <repo>/target/release/server, the path the platform contract promises.

if [ -z "${BASH_VERSION:-}" ]; then
  echo "scripts/env.sh must be sourced from bash" >&2
  # shellcheck disable=SC2317
  return 1 2>/dev/null || exit 1
fi

NOTIFY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export NOTIFY_ROOT

_notify_path_prepend() {
  case ":${PATH}:" in
    *":$1:"*) ;;
    *) PATH="$1${PATH:+:${PATH}}" ;;
  esac
}
_notify_path_prepend "${CARGO_HOME:-$HOME/.cargo}/bin"
_notify_path_prepend "$NOTIFY_ROOT/.tools/node_modules/.bin"
unset -f _notify_path_prepend
export PATH

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/notify-target}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

# The target directory cargo really uses (CARGO_TARGET_DIR may be relative to the repo root).
notify_target_dir() {
  case "$CARGO_TARGET_DIR" in
    /*) printf '%s\n' "$CARGO_TARGET_DIR" ;;
    *) printf '%s\n' "$NOTIFY_ROOT/$CARGO_TARGET_DIR" ;;
  esac
}

# A value from the [[workspace.metadata.leptos]] section of Cargo.toml (simple `key = "value"`
# or `key = number` lines only), or $2 when absent.
notify_leptos_setting() {
  local value
  value="$(awk -v key="$1" '
    /^\[\[workspace\.metadata\.leptos\]\]/ { in_section = 1; next }
    /^\[/ { in_section = 0 }
    in_section {
      line = $0
      sub(/#.*/, "", line)
      if (match(line, "^[ \t]*" key "[ \t]*=")) {
        v = substr(line, RLENGTH + 1)
        gsub(/^[ \t"]+|[ \t"]+$/, "", v)
        print v
        exit
      }
    }' "$NOTIFY_ROOT/Cargo.toml" 2>/dev/null || true)"
  printf '%s\n' "${value:-$2}"
}
