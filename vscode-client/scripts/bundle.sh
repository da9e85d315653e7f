#!/usr/bin/env bash
# Install fmperf and its pure-Python dependencies into bundled/libs for the .vsix.
#
# The wheel is built from the repository root, then installed with pip's
# target-platform options set to "pure Python": a dependency without a pure
# wheel fails here instead of on a user's machine. pip evaluates environment
# markers for the Python running it only, so missing_requirements.py adds what
# other supported Pythons and OSes need (tomli and exceptiongroup for 3.10).
set -euo pipefail

client="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$client/.." && pwd)"
python="${PYTHON:-python3}"
libs="$client/bundled/libs"

if [[ ! -f "$root/pyproject.toml" ]]; then
    echo "bundle.sh: $root/pyproject.toml not found; nothing to bundle" >&2
    exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

pure=(--quiet --disable-pip-version-check --no-compile --target "$libs"
    --python-version 3.10 --implementation py --abi none --platform any --only-binary=:all:)

"$python" -m pip wheel --quiet --no-deps --wheel-dir "$work/wheel" "$root"
rm -rf "$libs"
"$python" -m pip install "${pure[@]}" "$work"/wheel/*.whl

# pip judged markers by this Python and OS; add what other supported ones need.
for _round in 1 2 3 4 5; do
    mapfile -t missing < <("$python" "$client/scripts/missing_requirements.py" "$libs")
    ((${#missing[@]} == 0)) && break
    echo "bundle.sh: adding for other Pythons/OSes: ${missing[*]}"
    # --no-deps: their own dependencies are found by the next round, for all targets.
    "$python" -m pip install "${pure[@]}" --no-deps "${missing[@]}"
done

# Console scripts and metadata of the target dir are not used by the launcher.
rm -rf "$libs/bin"
if find "$libs" -name '*.so' -o -name '*.pyd' | grep -q .; then
    echo "bundle.sh: compiled extension modules found in $libs; the bundle must be" \
        "pure Python" >&2
    exit 1
fi
test -d "$libs/fmperf_ls" || { echo "bundle.sh: fmperf_ls missing in $libs" >&2; exit 1; }
echo "bundled: $(ls "$libs" | grep -c -v dist-info) packages, $(du -sh "$libs" | cut -f1)"
