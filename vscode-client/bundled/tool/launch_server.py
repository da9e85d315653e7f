"""Start the fmperf language server for the VS Code extension.

Run as a file, never with ``-m``: ``python -m`` puts the current directory
(the user's workspace) first on ``sys.path``, and a workspace with its own
``fmperf_ls/`` or ``json.py`` would then be imported instead of ours. Running
a file puts this file's folder there instead.

FMPERF_IMPORT_STRATEGY=useBundled (the default) puts the libraries shipped in
the extension (``bundled/libs``) first on ``sys.path``, so any Python >= 3.10
runs the server with nothing installed. ``fromEnvironment`` uses whatever
fmperf the interpreter itself can import. Everything after the script name is
passed to the server (``--stdio``, ``-v``, ``--log-file PATH``).
"""

import os
import runpy
import sys

MIN_VERSION = (3, 10)


def _bundled_libs():
    """The libs folder: from the client's environment, else beside this file."""
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(os.path.dirname(here), "libs")
    return os.environ.get("FMPERF_BUNDLED_LIBS") or default


def main():
    if sys.version_info[:2] < MIN_VERSION:
        # The client checks the version first; this guards a hand-made command.
        sys.stderr.write(
            "fmperf needs Python %d.%d or newer, not %s\n"
            % (MIN_VERSION + (sys.version.split()[0],))
        )
        return 3
    strategy = os.environ.get("FMPERF_IMPORT_STRATEGY", "useBundled")
    if strategy == "useBundled":
        libs = _bundled_libs()
        if not os.path.isdir(libs):
            sys.stderr.write("fmperf: bundled libraries missing at %s\n" % libs)
            return 4
        sys.path.insert(0, libs)
    # Same as `python -m fmperf_ls.server`; sys.argv[1:] is kept for the server.
    runpy.run_module("fmperf_ls.server", run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
