#!/usr/bin/env bash
# What the browser tests need: Debian's Chromium (Playwright drives it; its own browser download
# does not work on these machines) and axe-core from package-lock.json (injected into pages).
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM="${MARQUEE_CHROMIUM:-/usr/bin/chromium}"
# fonts-noto-cjk: the Chinese pages (and their screenshots) need a font with the characters.
if [ ! -x "$CHROMIUM" ] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
    echo "browser: installing Debian's chromium and fonts"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null \
        || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null; }
    [ -x "$CHROMIUM" ] || { echo "browser: $CHROMIUM is still missing" >&2; exit 1; }
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "browser: installing axe-core (npm ci)"
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
