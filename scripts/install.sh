#!/usr/bin/env bash
# Create .venv with Python 3.10 and install the pinned dependencies; re-run only when they changed.
# Usage: scripts/install.sh   (make install calls it)
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local candidates=()
  [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=($(ls -d "$(pyenv root)"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -V -r))
  fi
  candidates+=($(ls -d "$HOME"/.pyenv/versions/3.10.*/bin/python3.10 2>/dev/null | sort -V -r))
  candidates+=(python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10 python3)
  for py in "${candidates[@]}"; do
    if "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; then
      echo "$py"; return 0
    fi
  done
  return 1
}

if ! java -version >/dev/null 2>&1; then
  echo "A Java JDK is needed (KoNLPy runs on the JVM). Install one, e.g. 'apt-get install default-jdk'" >&2
  echo "or set JAVA_HOME to an installed JDK, then run this again." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  if ! PY=$(find_python); then
    echo "Python 3.10 is needed (Rasa 3.6 supports 3.8-3.10) and none was found." >&2
    echo "Install it, e.g. 'pyenv install 3.10' or 'apt-get install python3.10 python3.10-venv'," >&2
    echo "or point PYTHON=/path/to/python3.10 at one, then run this again." >&2
    exit 1
  fi
  echo "Creating .venv with $PY"
  "$PY" -m venv .venv
fi

stamp=.venv/.installed
if [ -f "$stamp" ] && [ "$stamp" -nt requirements.txt ] && [ "$stamp" -nt constraints.txt ] \
   && [ "$stamp" -nt pyproject.toml ]; then
  exit 0
fi
echo "Installing dependencies into .venv (a fresh install takes a few minutes and about 3 GB)"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.0"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
touch "$stamp"
