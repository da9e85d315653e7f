"""Print requirements that bundled/libs lacks on some supported Python or OS.

pip evaluates environment markers against the Python running it, even with
``--python-version``: bundling with Python 3.11 leaves out what 3.10 needs
(``tomli; python_version < "3.11"``, ``exceptiongroup``), and bundling on
Linux leaves out Windows-only dependencies. The .vsix must run on any Python
>= 3.10 on any OS, so every marker is evaluated for each of those targets and
the union of what applies is printed, one requirement per line, for the next
``pip install --target`` round.

Usage: python3 missing_requirements.py LIBS_DIR
"""

import pathlib
import re
import sys

try:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:  # pip always carries a copy
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name

PYTHONS = ["3.10", "3.11", "3.12", "3.13", "3.14"]
PLATFORMS = [
    ("linux", "Linux", "posix"),
    ("win32", "Windows", "nt"),
    ("darwin", "Darwin", "posix"),
]


def targets():
    """Marker environments for every supported Python on every OS."""
    for version in PYTHONS:
        for sys_platform, system, os_name in PLATFORMS:
            yield {
                "python_version": version,
                "python_full_version": version + ".0",
                "implementation_name": "cpython",
                "platform_python_implementation": "CPython",
                "sys_platform": sys_platform,
                "platform_system": system,
                "os_name": os_name,
                "extra": "",
            }


def installed(libs):
    """Canonical names of the distributions in libs, from their dist-info folders."""
    names = set()
    for info in libs.glob("*.dist-info"):
        names.add(canonicalize_name(re.sub(r"-[^-]+$", "", info.name[: -len(".dist-info")])))
    return names


def requirements(libs):
    for metadata in libs.glob("*.dist-info/METADATA"):
        for line in metadata.read_text(encoding="utf-8").splitlines():
            if line.startswith("Requires-Dist:"):
                yield Requirement(line.split(":", 1)[1].strip())


def main(libs_dir):
    libs = pathlib.Path(libs_dir)
    have = installed(libs)
    missing = {}
    for requirement in requirements(libs):
        name = canonicalize_name(requirement.name)
        if name in have:
            continue
        marker = requirement.marker
        # Only dependencies some supported target needs; extras are never installed.
        if marker is None or any(marker.evaluate(env) for env in targets()):
            requirement.marker = None
            missing.setdefault(name, str(requirement))
    for line in sorted(missing.values()):
        print(line)


if __name__ == "__main__":
    main(sys.argv[1])
