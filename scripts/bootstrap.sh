#!/usr/bin/env bash
# Prepare a checkout: system packages (as root), the virtual environment,
# the Python requirements and a local .env. Safe to run again: each step
# is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
APT_PACKAGES="python3-venv python3-dev build-essential pkg-config default-libmysqlclient-dev"
# The browser tests drive Debian's Chromium; `make test` asks for it.
if [ "${1:-}" = "--with-browser" ]; then
  APT_PACKAGES="$APT_PACKAGES chromium"
fi

missing_apt() {
  local missing=""
  for pkg in $APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" \
      || missing="$missing $pkg"
  done
  echo "$missing"
}

if command -v dpkg-query >/dev/null 2>&1; then
  missing=$(missing_apt)
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = "0" ]; then
      echo "Installing system packages:$missing"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      # shellcheck disable=SC2086
      apt-get install -y -qq $missing >/dev/null
    elif ! pkg-config --exists mysqlclient 2>/dev/null; then
      echo "mysqlclient needs system packages to build. Run once, then retry:"
      echo "  sudo apt-get install -y$missing"
      exit 1
    else
      echo "Not installed (browser tests will be skipped):$missing"
      echo "  sudo apt-get install -y$missing"
    fi
  fi
fi

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Thrift MS needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version)."
  exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating the virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.requirements.sha256"
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing Python requirements"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -r requirements.txt
  echo "$want" > "$stamp"
fi

if [ ! -f .env ]; then
  key=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(50))')
  sed "s|^SECRET_KEY=.*|SECRET_KEY=$key|" .env.example > .env
  echo "Wrote .env with a fresh SECRET_KEY (SQLite, DEBUG on)."
fi
