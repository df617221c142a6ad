#!/usr/bin/env bash
# Build (release) and run the platform from the repo root, the way the README describes:
#
#   bash scripts/run.sh [server args...]
#
# With no configuration the server uses an embedded SQLite database under ./data/ and the
# in-process queue, and listens on LEPTOS_SITE_ADDR (default 127.0.0.1:3000). Set DATABASE_URL,
# REDIS_URL, APP_SECRET, PLATFORM_ADMIN_EMAIL/PLATFORM_ADMIN_PASSWORD etc. (or put them in .env)
# to change that. NOTIFY_SKIP_BUILD=1 runs the existing binary without building.
set -euo pipefail

# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$NOTIFY_ROOT"

if [ "${NOTIFY_SKIP_BROWSER+x}" = "" ]; then
  # Running the server needs no browser and no Playwright.
  export NOTIFY_SKIP_BROWSER=1
fi
if [ "${NOTIFY_SKIP_BUILD:-0}" != 1 ]; then
  bash scripts/build.sh
fi

bin_name="$(notify_leptos_setting bin-exe-name "$(notify_leptos_setting bin-package server)")"
echo "run: ./target/release/$bin_name (from $NOTIFY_ROOT)"
exec "./target/release/$bin_name" "$@"
