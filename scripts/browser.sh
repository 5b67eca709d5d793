#!/usr/bin/env bash
# Make sure Debian's Chromium and the Nanum fonts are installed: the browser tests drive them with Playwright
# (a browser cannot be downloaded here; Playwright uses the system one at /usr/bin/chromium).
# Usage: scripts/browser.sh   (make test calls it)
set -euo pipefail
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi nanum; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium and the Nanum fonts for the browser tests (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends chromium fonts-nanum >/dev/null \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium fonts-nanum >/dev/null; }
  exit 0
fi
echo "The browser tests need Chromium and Korean fonts: 'sudo apt-get install chromium fonts-nanum'." >&2
exit 1
