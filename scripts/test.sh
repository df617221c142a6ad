#!/usr/bin/env bash
# The full test run, as the README describes it:
#
#   bash scripts/test.sh
#
#   1. scripts/setup.sh (tools; idempotent), then `cargo fmt --all --check` (rustfmt.toml) and
#      `cargo clippy -p domain -p server -p app --features app/ssr --tests -- -D warnings`
#   2. cargo leptos build            (debug: hydrate wasm into target/site + the server binary)
#   3. Rust tests of domain + server on the defaults (embedded SQLite, in-process queue)
#   4. the same tests again against PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL),
#      when they answer at 127.0.0.1:5432 / 127.0.0.1:6379 (or at the URLs you exported)
#   5. the Playwright browser tests in end2end/ against the debug server, started on a free port
#      with a throw-away SQLite database
#
# Every stage runs even when an earlier test stage failed; a summary closes the output and the
# exit status is non-zero when anything failed. A failed build stops the run.
#
# Knobs (environment):
#   TEST_DATABASE_URL   PostgreSQL for stage 4 (default postgres://postgres@127.0.0.1:5432/test)
#   TEST_REDIS_URL      Redis for stage 4 (default redis://127.0.0.1:6379)
#   NOTIFY_SKIP_PG=1    skip stage 4            NOTIFY_SKIP_E2E=1   skip stage 5
#   NOTIFY_TEST_ARGS    extra arguments for cargo nextest run / cargo test (e.g. a filter)
#   NOTIFY_E2E_ARGS     extra arguments for `playwright test`
set -euo pipefail

# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$NOTIFY_ROOT"

stage() { printf '\n==> %s\n' "$*"; }
note() { printf 'test: %s\n' "$*"; }

declare -a summary=()
failed=0
record() { # record <name> <exit status>
  if [ "$2" -eq 0 ]; then
    summary+=("ok      $1")
  else
    summary+=("FAILED  $1 (exit $2)")
    failed=1
  fi
}

tmp="$(mktemp -d "${TMPDIR:-/tmp}/notify-test.XXXXXX")"
server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
cleanup() {
  stop_server
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. tools ----------------------------------------------------------------------------------
stage "setup"
if [ "${NOTIFY_SKIP_E2E:-0}" = 1 ] && [ "${NOTIFY_SKIP_BROWSER+x}" = "" ]; then
  export NOTIFY_SKIP_BROWSER=1
fi
bash scripts/setup.sh

stage "cargo fmt --all --check"
if cargo fmt --version >/dev/null 2>&1; then
  status=0
  cargo fmt --all --check || status=$?
  record "formatting (cargo fmt --check)" "$status"
else
  note "rustfmt is not installed with this toolchain; formatting not checked"
  summary+=("skipped formatting (no rustfmt)")
fi

# --- 2. build ----------------------------------------------------------------------------------
stage "cargo leptos build (debug; CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
cargo leptos build

bin_name="$(notify_leptos_setting bin-exe-name "$(notify_leptos_setting bin-package server)")"
dev_profile="$(notify_leptos_setting bin-profile-dev debug)"
site_root="$(notify_leptos_setting site-root target/site)"
case "$site_root" in /*) ;; *) site_root="$NOTIFY_ROOT/$site_root" ;; esac
server_bin="$(notify_target_dir)/$dev_profile/$bin_name"
[ -x "$server_bin" ] || { echo "test: ERROR: no server binary at $server_bin after the build" >&2; exit 1; }
# Keep the binary cargo-leptos just built: the test builds below may relink the same path with
# other features or flags, and only cargo-leptos's build fits the wasm in target/site.
cp "$server_bin" "$tmp/server"

# --- 3./4. Rust tests --------------------------------------------------------------------------
# Compile the tests with the settings cargo-leptos used for the debug build above (its RUSTFLAGS
# and the LEPTOS_* variables that crates read at compile time, e.g. leptos bakes in whether
# LEPTOS_OUTPUT_NAME is set). Any difference would make cargo recompile the whole dependency tree
# a second time, and every later `cargo leptos build` recompile it back.
project_name="$(notify_leptos_setting name notify)"
lib_package="$(notify_leptos_setting lib-package frontend)"
bin_package="$(notify_leptos_setting bin-package server)"
test_build_env=(
  "RUSTFLAGS=${RUSTFLAGS:+$RUSTFLAGS }--cfg erase_components"
  "LEPTOS_OUTPUT_NAME=$(notify_leptos_setting output-name "$project_name")"
  "LEPTOS_SITE_ROOT=$(notify_leptos_setting site-root target/site)"
  "LEPTOS_SITE_PKG_DIR=$(notify_leptos_setting site-pkg-dir pkg)"
  "LEPTOS_SITE_ADDR=${LEPTOS_SITE_ADDR:-$(notify_leptos_setting site-addr 127.0.0.1:3000)}"
  "LEPTOS_RELOAD_PORT=${LEPTOS_RELOAD_PORT:-$(notify_leptos_setting reload-port 3001)}"
  "LEPTOS_LIB_DIR=$lib_package"
  "LEPTOS_BIN_DIR=$bin_package"
  "LEPTOS_JS_MINIFY=false"
  "LEPTOS_HASH_FILES=false"
)

if command -v cargo-nextest >/dev/null 2>&1; then
  test_cmd=(cargo nextest run -p domain -p server -p app --features app/ssr --no-fail-fast --no-tests=warn)
else
  note "cargo-nextest not found, using cargo test"
  test_cmd=(cargo test -p domain -p server -p app --features app/ssr --no-fail-fast)
fi
# shellcheck disable=SC2206
test_cmd+=(${NOTIFY_TEST_ARGS:-})

stage "cargo clippy -p domain -p server -p app --tests -- -D warnings"
if cargo clippy --version >/dev/null 2>&1; then
  status=0
  # With the test build's settings, as `cargo check` would be run.
  env "${test_build_env[@]}" cargo clippy -p domain -p server -p app --features app/ssr --tests -- -D warnings || status=$?
  record "lints (cargo clippy -D warnings)" "$status"
else
  note "clippy is not installed with this toolchain; lints not checked"
  summary+=("skipped lints (no clippy)")
fi

stage "Rust tests (domain, server) on the defaults: SQLite, in-process queue"
status=0
env -u TEST_DATABASE_URL -u TEST_REDIS_URL -u DATABASE_URL -u REDIS_URL \
  "${test_build_env[@]}" "${test_cmd[@]}" || status=$?
record "Rust tests, SQLite" "$status"

tcp_open() { # tcp_open <host> <port>
  timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}
# host and port of a URL like scheme://user@host:port/db
url_host() { local h="${1#*://}"; h="${h##*@}"; h="${h%%/*}"; h="${h%%\?*}"; printf '%s' "${h%:*}"; }
url_port() { local h="${1#*://}"; h="${h##*@}"; h="${h%%/*}"; h="${h%%\?*}"; case "$h" in *:*) printf '%s' "${h##*:}" ;; *) printf '%s' "$2" ;; esac; }

pg_url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
redis_url="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
pg_up=0
redis_up=0
if [ "${NOTIFY_SKIP_PG:-0}" != 1 ]; then
  pg_host="$(url_host "$pg_url")"; pg_port="$(url_port "$pg_url" 5432)"
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$pg_host" -p "$pg_port" -t 5 && pg_up=1
  else
    tcp_open "$pg_host" "$pg_port" && pg_up=1
  fi
  redis_host="$(url_host "$redis_url")"; redis_port="$(url_port "$redis_url" 6379)"
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(timeout 5 redis-cli -u "$redis_url" ping 2>/dev/null)" = PONG ] && redis_up=1
  else
    tcp_open "$redis_host" "$redis_port" && redis_up=1
  fi
fi

if [ "${NOTIFY_SKIP_PG:-0}" = 1 ]; then
  note "PostgreSQL/Redis tests skipped (NOTIFY_SKIP_PG=1)"
  summary+=("skipped Rust tests, PostgreSQL + Redis (NOTIFY_SKIP_PG=1)")
elif [ "$pg_up" = 0 ] && [ "$redis_up" = 0 ]; then
  note "neither PostgreSQL ($pg_url) nor Redis ($redis_url) answers; skipping that run"
  summary+=("skipped Rust tests, PostgreSQL + Redis (not reachable)")
else
  pg_env=(-u TEST_DATABASE_URL -u TEST_REDIS_URL -u DATABASE_URL -u REDIS_URL)
  label=()
  if [ "$pg_up" = 1 ]; then pg_env+=("TEST_DATABASE_URL=$pg_url"); label+=(PostgreSQL); else note "PostgreSQL ($pg_url) does not answer"; fi
  if [ "$redis_up" = 1 ]; then pg_env+=("TEST_REDIS_URL=$redis_url"); label+=(Redis); else note "Redis ($redis_url) does not answer"; fi
  label_text="$(IFS=+; printf '%s' "${label[*]}")"
  label_text="${label_text//+/ + }"
  stage "Rust tests (domain, server) on $label_text"
  status=0
  env "${pg_env[@]}" "${test_build_env[@]}" "${test_cmd[@]}" || status=$?
  record "Rust tests, $label_text" "$status"
fi

# --- 5. browser tests --------------------------------------------------------------------------
free_port() {
  python3 - <<'PY' 2>/dev/null && return 0
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 20000))
    tcp_open 127.0.0.1 "$p" || { echo "$p"; return 0; }
  done
  return 1
}

run_e2e() {
  local port base_url admin_email admin_password status=0
  port="$(free_port)"
  base_url="http://127.0.0.1:$port"
  admin_email="e2e-admin@example.com"
  admin_password="e2e-$(date +%s)-$RANDOM$RANDOM"
  mkdir -p "$tmp/data"

  note "starting the debug server on $base_url (log: $tmp/server.log)"
  # From the repo root, as in production; everything it writes goes to the temp dir.
  env -u REDIS_URL \
    LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    LEPTOS_SITE_ROOT="$site_root" \
    DATABASE_URL="sqlite://$tmp/data/e2e.db" \
    APP_SECRET="e2e-secret-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d " \n")" \
    PLATFORM_ADMIN_EMAIL="$admin_email" \
    PLATFORM_ADMIN_PASSWORD="$admin_password" \
    WEBHOOK_ALLOW_PRIVATE_TARGETS=true WEBHOOK_ALLOW_ANY_PORT=true WEBHOOK_SOURCE_IPS=203.0.113.10,2001:db8::/64 WEBHOOK_RETRY_SCHEDULE=0,1,1 \
    RUST_LOG="${RUST_LOG:-info}" \
    "$tmp/server" >"$tmp/server.log" 2>&1 &
  server_pid=$!

  local ready=0
  for _ in $(seq 1 240); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      note "the server exited before answering /healthz"
      break
    fi
    if curl -fsS -o /dev/null --max-time 2 "$base_url/healthz" 2>/dev/null; then
      ready=1
      break
    fi
    sleep 0.5
  done

  if [ "$ready" = 1 ]; then
    note "server ready"
    # shellcheck disable=SC2086
    (cd end2end && CI="${CI:-1}" BASE_URL="$base_url" ADMIN_EMAIL="$admin_email" \
      ADMIN_PASSWORD="$admin_password" npx --no-install playwright test ${NOTIFY_E2E_ARGS:-}) || status=$?
    # The stock pusher-js client and the official pusher server library against the same server.
    note "pusher-js and pusher (npm) compatibility tests"
    (cd compat/pusher && BASE_URL="$base_url" ADMIN_EMAIL="$admin_email" \
      ADMIN_PASSWORD="$admin_password" node --test) || status=$?
    # Webhook deliveries verified with the published standardwebhooks package.
    note "standardwebhooks (npm) verification test"
    (cd compat/webhooks && BASE_URL="$base_url" ADMIN_EMAIL="$admin_email" \
      ADMIN_PASSWORD="$admin_password" node --test) || status=$?
  else
    kill -0 "$server_pid" 2>/dev/null && note "the server did not become healthy within 120 s"
    status=1
  fi

  stop_server
  if [ "$status" -ne 0 ]; then
    note "last lines of the server log:"
    tail -n 60 "$tmp/server.log" | sed 's/^/  | /' || true
  fi
  return "$status"
}

if [ "${NOTIFY_SKIP_E2E:-0}" = 1 ]; then
  summary+=("skipped browser tests (NOTIFY_SKIP_E2E=1)")
else
  stage "browser tests (Playwright, $(/usr/bin/chromium --version 2>/dev/null | head -n1 || echo chromium))"
  status=0
  run_e2e || status=$?
  record "browser and Pusher-compatibility tests (end2end/, compat/)" "$status"
fi

# --- summary -----------------------------------------------------------------------------------
stage "summary"
for line in "${summary[@]}"; do
  printf '  %s\n' "$line"
done
if [ "$failed" -ne 0 ]; then
  echo "test: FAILED"
  exit 1
fi
echo "test: all passed"
