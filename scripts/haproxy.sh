#!/usr/bin/env bash
# Make sure Debian's HAProxy is installed: the scaled setup (make run-scaled) and its tests put it in front of
# several gateways.
# Usage: scripts/haproxy.sh   (make test and make run-scaled call it)
set -euo pipefail
if command -v haproxy >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing HAProxy (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends haproxy >/dev/null \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends haproxy >/dev/null; }
  exit 0
fi
echo "The scaled setup needs HAProxy: 'sudo apt-get install haproxy'." >&2
exit 1
