#!/usr/bin/env bash
# Installs the tools the build and the tests need. Idempotent: whatever is already there (in the
# right version) is skipped, so running it again costs a few seconds.
#
#   - rustup target wasm32-unknown-unknown
#   - cargo-leptos 0.3.0 (built with `no_downloads`: it never fetches tools itself, so the two
#     below must be on PATH)
#   - wasm-bindgen-cli of exactly the wasm-bindgen version in Cargo.lock
#   - wasm-opt from the npm package binaryen@132, into .tools/ (used by release builds; the
#     Debian binaryen package is too old for current Rust wasm output)
#   - Tailwind's own compiler, the npm package @tailwindcss/cli, into .tools/ (cargo-leptos runs
#     the `tailwindcss` it finds on PATH for `tailwind-input-file`)
#   - Chromium from apt, for the browser tests (Playwright's own browser download is not used)
#   - the end2end/ npm packages (Playwright)
#
# Environment: see scripts/env.sh. NOTIFY_SKIP_BROWSER=1 skips Chromium and the end2end packages.
set -euo pipefail

# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$NOTIFY_ROOT"

CARGO_LEPTOS_VERSION=0.3.0
BINARYEN_VERSION=132
TAILWIND_VERSION=4.3.5
DEFAULT_WASM_BINDGEN_VERSION=0.2.106

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
# First x.y.z in the input.
semver_of() { grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif have sudo; then sudo "$@"
  else die "need root (or sudo) for: $*"
  fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    say "apt-get update"
    as_root apt-get update -qq
    apt_updated=1
  fi
  say "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# --- Rust --------------------------------------------------------------------------------------
have cargo || die "cargo not found; install Rust with rustup first (https://rustup.rs)"
have rustup || die "rustup not found; the wasm32 target is added with rustup"

if rustup target list --installed | grep -x 'wasm32-unknown-unknown' >/dev/null; then
  say "wasm32-unknown-unknown target: present"
else
  say "wasm32-unknown-unknown target: adding"
  rustup target add wasm32-unknown-unknown
fi

# --- cargo-leptos ------------------------------------------------------------------------------
installed_leptos="$( (cargo leptos --version 2>/dev/null || true) | semver_of)"
if [ "$installed_leptos" = "$CARGO_LEPTOS_VERSION" ]; then
  say "cargo-leptos $CARGO_LEPTOS_VERSION: present"
else
  say "cargo-leptos: ${installed_leptos:-missing}, installing $CARGO_LEPTOS_VERSION (takes a while)"
  cargo install "cargo-leptos@$CARGO_LEPTOS_VERSION" --locked --features no_downloads --force
fi

# --- wasm-bindgen-cli --------------------------------------------------------------------------
# The CLI must be the very version of the wasm-bindgen crate the frontend links, else the
# generated JS and the wasm disagree. Cargo.lock is the truth; before the first build there is
# no lock file, so fall back to the exact pin in Cargo.toml, then to a known default.
wasm_bindgen_version=""
if [ -f Cargo.lock ]; then
  wasm_bindgen_version="$(awk '
    /^\[\[package\]\]/ { pkg = "" }
    /^name = "wasm-bindgen"$/ { pkg = "wasm-bindgen"; next }
    pkg == "wasm-bindgen" && /^version = / { gsub(/"/, "", $3); print $3; exit }
  ' Cargo.lock)"
fi
if [ -z "$wasm_bindgen_version" ]; then
  wasm_bindgen_version="$( (grep -E '^[[:space:]]*wasm-bindgen[[:space:]]*=[[:space:]]*"=' Cargo.toml || true) | semver_of)"
fi
wasm_bindgen_version="${wasm_bindgen_version:-$DEFAULT_WASM_BINDGEN_VERSION}"

installed_bindgen="$( (wasm-bindgen --version 2>/dev/null || true) | semver_of)"
if [ "$installed_bindgen" = "$wasm_bindgen_version" ]; then
  say "wasm-bindgen-cli $wasm_bindgen_version: present"
else
  say "wasm-bindgen-cli: ${installed_bindgen:-missing}, installing $wasm_bindgen_version"
  # Not --locked: the CLI's own lock file pins crates that no longer build on current Rust.
  cargo install wasm-bindgen-cli --version "$wasm_bindgen_version" --force
fi

# --- node / npm --------------------------------------------------------------------------------
if ! have npm; then
  apt_install nodejs npm
fi

# --- npm tools in .tools/: wasm-opt (npm binaryen) and tailwindcss (npm @tailwindcss/cli) --------
tools_dir="$NOTIFY_ROOT/.tools"
# npm_tool <label> <installed version> <wanted version> <package@version> <binary> <its check>
npm_tool() {
  if [ "$2" = "$3" ]; then
    say "$1 $3: present in .tools/"
    return
  fi
  say "$1: ${2:-missing}, installing $4 into .tools/"
  mkdir -p "$tools_dir"
  [ -f "$tools_dir/package.json" ] || printf '{\n  "name": "notify-tools",\n  "private": true\n}\n' >"$tools_dir/package.json"
  npm install --prefix "$tools_dir" --no-audit --no-fund --loglevel=error --save-exact "$4"
  "$tools_dir/node_modules/.bin/$5" "$6" >/dev/null || die "$5 from $4 does not run"
}

installed_binaryen="$( ("$tools_dir/node_modules/.bin/wasm-opt" --version 2>/dev/null || true) \
  | grep -Eo 'version[ _][0-9]+' | grep -Eo '[0-9]+' | head -n1 || true)"
npm_tool "wasm-opt (binaryen)" "$installed_binaryen" "$BINARYEN_VERSION" "binaryen@$BINARYEN_VERSION" wasm-opt --version
case "$(command -v wasm-opt || true)" in
  "$tools_dir"/*) ;;
  *) die "wasm-opt on PATH is not the one in .tools/ (source scripts/env.sh)" ;;
esac

installed_tailwind="$( ("$tools_dir/node_modules/.bin/tailwindcss" --help 2>/dev/null || true) | semver_of)"
npm_tool tailwindcss "$installed_tailwind" "$TAILWIND_VERSION" "@tailwindcss/cli@$TAILWIND_VERSION" tailwindcss --help

# --- sox: the sound tests encode their mp3, ogg and aiff tones with it ------------------------------
if have sox && sox -h 2>/dev/null | grep -q 'AUDIO FILE FORMATS:.* mp3'; then
  say "sox with mp3: present"
else
  apt_install sox libsox-fmt-mp3
fi

# --- a local S3 server for the object-storage test of sounds (tests/api/sounds.rs) --------------
if have moto_server; then
  say "moto_server: present"
else
  say "moto_server: installing moto[server] with pip"
  python3 -m pip install --quiet --disable-pip-version-check 'moto[server]>=5,<6' || say "WARNING: moto not installed; the S3 test of sounds will be skipped"
fi

if [ "${NOTIFY_SKIP_BROWSER:-0}" != 1 ]; then
  # --- Chromium --------------------------------------------------------------------------------
  if [ -x /usr/bin/chromium ]; then
    say "chromium: present"
  else
    apt_install chromium
  fi

  # --- npm packages of the browser and compatibility tests -------------------------------------
  for e2e in "$NOTIFY_ROOT/end2end" "$NOTIFY_ROOT/compat/pusher" "$NOTIFY_ROOT/compat/webhooks"; do
  if [ -f "$e2e/package.json" ]; then
    stamp="$e2e/node_modules/.package-lock.json"
    if [ -f "$e2e/package-lock.json" ] && [ -f "$stamp" ] && [ -d "$e2e/node_modules" ] \
      && [ "$stamp" -nt "$e2e/package-lock.json" ] && [ "$stamp" -nt "$e2e/package.json" ]; then
      say "$(basename "$e2e") npm packages: present"
    elif [ -f "$e2e/package-lock.json" ]; then
      say "$(basename "$e2e") npm packages: npm ci"
      (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error)
    else
      say "$(basename "$e2e") npm packages: npm install (no lock file)"
      (cd "$e2e" && npm install --no-audit --no-fund --loglevel=error)
    fi
  fi
  done
fi

say "done"
