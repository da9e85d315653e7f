"""Speed of the workspace model index on a generated FlexMeasures-sized tree.

The tree has 440 modules and about 120,000 lines, like FlexMeasures: a tenth
of them define models (Flask-SQLAlchemy with backrefs and SQLAlchemy 2.0
typed), the rest are services, API views and tests that only use them. The
index parses only files that pass the text prefilter, which is what keeps
cold indexing well under the budget of DESIGN section 6.

Three runs are timed: without a cache folder, cold (an empty cache folder,
written at the end) and warm (a new index over the same tree and the cache
the cold run wrote: no file is parsed). `--tree` indexes a real checkout
instead of the generated one. The load average is printed with the figures,
since other work on the machine slows every run.

    python benchmarks/index.py [--files 440] [--repeat 5] [--tree PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from fmperf_ls.analysis.project import ProjectIndex

MODEL_SHARE = 10  # one module in ten defines models

MODEL_CLASS = '''

class {name}(db.Model):
    """A generated model."""

    __tablename__ = "{table}"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), index=True)
    note = db.Column(db.Text)
    parent_id = db.Column(db.Integer, db.ForeignKey("{table}.id"))
    other_id = db.Column(db.Integer, db.ForeignKey("{other}.id"))
    children = db.relationship(
        "{name}", backref=db.backref("parent", remote_side="{name}.id")
    )
    other = db.relationship("{other_name}", backref=db.backref("{table}_items", lazy=True))

    def describe(self) -> str:
        parts = [self.name or "", str(self.id)]
        for child in self.children:
            parts.append(child.name or "")
        return ", ".join(parts)
'''

TYPED_CLASS = '''

class {name}(Base):
    __tablename__ = "{table}"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[int] = mapped_column(ForeignKey("{other}.id"))
    owner: Mapped["{other_name}"] = relationship(back_populates="{table}_list")
'''

SERVICE_FUNCTION = '''

def service_{n}(session, ids: list[int]) -> dict:
    """A generated service function that uses the models."""
    result = {{}}
    for item_id in ids:
        value = item_id * 2
        if value % 3 == 0:
            result[item_id] = value
        else:
            result[item_id] = [value + k for k in range(4)]
    total = sum(len(str(v)) for v in result.values())
    result["total"] = total
    return result
'''


def model_module(number: int) -> str:
    lines = ["from flask_sqlalchemy import SQLAlchemy\n", "from sqlalchemy import ForeignKey, "
             "String\n", "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, "
             "relationship\n\n", "db = SQLAlchemy()\n\n\nclass Base(DeclarativeBase):\n    pass\n"]
    for k in range(20):
        name, other = f"Model{number}x{k}", f"Model{number}x{(k + 1) % 20}"
        table, other_table = f"model_{number}_{k}", f"model_{number}_{(k + 1) % 20}"
        lines.append(MODEL_CLASS.format(name=name, table=table, other=other_table,
                                        other_name=other))
        lines.append(TYPED_CLASS.format(name=f"Typed{number}x{k}", table=f"typed_{number}_{k}",
                                        other=other_table, other_name=other))
    return "".join(lines)


def service_module(number: int, functions: int) -> str:
    header = f'"""Generated service module {number}."""\n\nimport logging\n\n'
    return header + "".join(SERVICE_FUNCTION.format(n=k) for k in range(functions))


def generate(root: Path, files: int) -> int:
    """Write the tree; returns its number of lines."""
    lines = 0
    for number in range(files):
        package = root / f"package_{number % 12}"
        package.mkdir(exist_ok=True)
        if number % MODEL_SHARE == 0:
            text = model_module(number)
        else:
            text = service_module(number, 16)
        (package / f"module_{number}.py").write_text(text, encoding="utf-8")
        lines += text.count("\n")
    return lines


def timed(paths: list[Path], root: Path, cache: Path | None) -> tuple[float, int, int]:
    """Seconds to index `paths` into a new ProjectIndex; model files; files parsed."""
    started = time.perf_counter()
    project = ProjectIndex(root, cache_dir=cache)
    models = project.index_files(paths)
    return time.perf_counter() - started, models, project.parsed


def measure(root: Path, repeat: int) -> dict[str, list[float]]:
    paths = sorted(path for path in root.rglob("*.py") if ".venv" not in path.parts)
    timings: dict[str, list[float]] = {"no cache": [], "cold": [], "warm": []}
    parsed: dict[str, int] = {}
    models = 0
    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(scratch) / "cache"
        for _ in range(repeat):
            seconds, models, parsed["no cache"] = timed(paths, root, None)
            timings["no cache"].append(seconds)
            shutil.rmtree(cache, ignore_errors=True)
            seconds, _, parsed["cold"] = timed(paths, root, cache)
            timings["cold"].append(seconds)
            seconds, _, parsed["warm"] = timed(paths, root, cache)
            timings["warm"].append(seconds)
    lines = sum(path.read_text(encoding="utf-8", errors="replace").count("\n")
                for path in paths)
    print(f"files: {len(paths)}  lines: {lines}  model files: {models}")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"index, {name:>8}: median {median:.3f} s over {repeat} runs "
              f"(min {min(values):.3f} s), {parsed[name]} files parsed")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=440)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tree", type=Path, help="index this checkout instead")
    options = parser.parse_args()
    print("load average: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if options.tree is not None:
        measure(options.tree.resolve(), options.repeat)
    else:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            generate(root, options.files)
            measure(root, options.repeat)
    print("load average: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
