#!/usr/bin/env bash
# Install everything the test suite needs, then run all of it.
#
# Used by the README and by .ci/run. System packages (Neovim for the real-editor
# test, Chromium and libkrb5-dev for the VS Code test) are installed with apt-get
# when missing and we are root; the Python side goes into .venv, the extension's
# node packages into vscode-client/node_modules. Exits non-zero when any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v nvim >/dev/null 2>&1 || missing+=(neovim)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    echo "test-all: please install with apt-get: ${missing[*]}" >&2
    exit 2
  fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

if [ -f vscode-client/package-lock.json ]; then
  (cd vscode-client && npm ci --no-audit --no-fund --loglevel=error)
fi

exec .venv/bin/python -m pytest "$@"
