"""A generated code base shaped like FlexMeasures, for timing `fmperf check`.

`python -m benchmarks.corpus OUT [--files 500] [--lines 120000] [--seed 7]`
writes a package of Flask-SQLAlchemy models, services that query them,
pandas time-series code, Pyomo-style scheduling, marshmallow schemas and RQ
jobs. The same seed always gives the same files, so runs are comparable. A
few anti-patterns are sprinkled in at realistic rates, so the rules have
something to find and the fixes something to do.
"""

from __future__ import annotations

import argparse
import random
import textwrap
from pathlib import Path

KINDS = ("models", "services", "analytics", "scheduling", "schemas", "jobs")
WEIGHTS = (1, 3, 3, 1, 1, 1)

NOUNS = ("asset", "sensor", "account", "market", "beliefs", "forecast", "schedule", "price",
         "meter", "battery", "charger", "site", "tariff", "contract", "device", "zone")
VERBS = ("load", "compute", "resample", "aggregate", "collect", "update", "score", "rank",
         "align", "merge", "clean", "store", "fetch", "plan", "report", "check")

HEADERS = {
    "models": """\
        from datetime import datetime

        from sqlalchemy import Index
        from sqlalchemy.orm import backref

        from {package}.db import db
        """,
    "services": """\
        from datetime import datetime, timedelta

        from sqlalchemy import select

        from {package}.db import db
        from {package}.models_{n0} import {Model0}
        from {package}.models_{n1} import {Model1}
        """,
    "analytics": """\
        import numpy as np
        import pandas as pd
        """,
    "scheduling": """\
        import pandas as pd
        from pyomo.environ import ConcreteModel, Constraint, Objective, Set, Var, minimize
        """,
    "schemas": """\
        from marshmallow import Schema, fields, validate
        """,
    "jobs": """\
        from rq import Queue

        from {package}.db import db
        from {package}.models_{n0} import {Model0}
        """,
}

MODEL = '''
class {Model}(db.Model):
    """A {noun} of the platform, with its owner and readings."""

    __tablename__ = "{noun}_{n}"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    created_at = db.Column(db.DateTime, default=datetime.utcnow, index=True)
    capacity_{noun} = db.Column(db.Float, nullable=True)
    owner_id = db.Column(db.Integer, db.ForeignKey("account_{n}.id"))
    status = db.Column(db.String(20), default="active")
    owner = db.relationship("Owner{n}", backref=backref("{noun}_items_{n}", lazy=True))
    readings = db.relationship("Reading{n}", lazy="{lazy}")

    __table_args__ = (Index("ix_{noun}_{n}_name", "name"),)

    def __repr__(self) -> str:
        return f"<{Model} {{self.id}} {{self.name}}>"

    @property
    def label(self) -> str:
        return f"{{self.name}} ({{self.status}})"

    def is_active(self) -> bool:
        return self.status == "active" and self.capacity_{noun} is not None
'''

SERVICE = [
    '''
def {verb}_{noun}_{i}(account_id: int, limit: int = 100) -> list[dict]:
    """{Verb} the {noun}s of an account, newest first."""
    rows = {Model0}.query.filter_by(owner_id=account_id).limit(limit).all()
    result = []
    for row in rows:
        result.append({{"id": row.id, "name": row.name, "owner": row.owner.name}})
    return result
''',
    '''
def {verb}_{noun}_totals_{i}(ids: list[int]) -> dict[int, float]:
    """Total capacity per {noun}, computed in the database."""
    statement = select({Model1}.id, {Model1}.capacity_{noun1}).where({Model1}.id.in_(ids))
    totals: dict[int, float] = {{}}
    for key, value in db.session.execute(statement):
        totals[key] = totals.get(key, 0.0) + (value or 0.0)
    return totals
''',
    '''
def {verb}_recent_{noun}_{i}(days: int = 7) -> int:
    """How many {noun}s were created in the last days."""
    since = datetime.utcnow() - timedelta(days=days)
    count = 0
    for item in {Model0}.query.filter({Model0}.created_at >= since):
        if item.is_active():
            count += 1
    return count
''',
    '''
def {verb}_{noun}_names_{i}(prefix: str) -> list[str]:
    """Names that start with a prefix, sorted."""
    names = [item.name for item in {Model1}.query.all() if item.name.startswith(prefix)]
    names.sort()
    seen = set()
    unique = []
    for name in names:
        if name not in seen:
            seen.add(name)
            unique.append(name)
    return unique
''',
]

ANALYTICS = [
    '''
def {verb}_{noun}_{i}(frame: pd.DataFrame, threshold: float = {number}) -> pd.Series:
    """{Verb} the {noun} values above a threshold, resampled hourly."""
    frame = frame.copy()
    frame["value"] = frame["value"].clip(lower=0)
    high = frame[frame["value"] > threshold]
    hourly = high.resample("1h").mean()
    return hourly["value"].fillna(0.0)
''',
    '''
def {verb}_{noun}_peak_{i}(prices: pd.DataFrame) -> float:
    """The highest evening price."""
    evening = prices[prices.index.hour >= 17]["price"]
    return float(evening.max()) if len(evening) else 0.0
''',
    '''
def {verb}_{noun}_profile_{i}(series: pd.Series, window: int = {small}) -> pd.DataFrame:
    """Rolling statistics of a series, one column each."""
    rolling = series.rolling(window, min_periods=1)
    result = pd.DataFrame({{"mean": rolling.mean(), "max": rolling.max()}})
    result["spread"] = result["max"] - result["mean"]
    result = result.dropna()
    return result.round(3)
''',
    '''
def {verb}_{noun}_matrix_{i}(values: np.ndarray) -> np.ndarray:
    """Pairwise differences of a vector, as a matrix."""
    matrix = np.zeros((len(values), len(values)))
    for row in range(len(values)):
        matrix[row] = values - values[row]
    return matrix
''',
    '''
def {verb}_{noun}_table_{i}(records: list[dict]) -> pd.DataFrame:
    """A frame of records with a datetime index and tidy columns."""
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        return frame
    frame["start"] = pd.to_datetime(frame["start"], utc=True)
    frame = frame.set_index("start").sort_index()
    frame = frame.rename(columns={{"val": "value", "src": "source"}})
    return frame[["value", "source"]]
''',
]

SCHEDULING = '''
def {verb}_{noun}_schedule_{i}(prices: list[float], capacity: float = {number}):
    """A small storage schedule: buy low, sell high, within capacity."""
    model = ConcreteModel()
    model.j = Set(initialize=range(len(prices)))
    model.power = Var(model.j, bounds=(-capacity, capacity))

    def soc_rule(m, j):
        return sum(m.power[k] for k in range(0, j + 1)) <= capacity

    model.soc = Constraint(model.j, rule=soc_rule)
    model.cost = Objective(expr=sum(prices[j] * model.power[j] for j in model.j), sense=minimize)
    return model
'''

SCHEDULING_PREFIX = '''
def {verb}_{noun}_plan_{i}(prices: list[float], capacity: float = {number}):
    """Storage schedule with the running state of charge built once."""
    model = ConcreteModel()
    model.j = Set(initialize=range(len(prices)))
    model.power = Var(model.j, bounds=(-capacity, capacity))
    running = {{}}
    total = 0
    for j in model.j:
        total = total + model.power[j]
        running[j] = total
    model.soc = Constraint(model.j, rule=lambda m, j: running[j] <= capacity)
    model.cost = Objective(expr=sum(prices[j] * model.power[j] for j in model.j), sense=minimize)
    return model
'''

SCHEMA = '''
class {Model}Schema{i}(Schema):
    """How a {noun} is shown in the API."""

    id = fields.Int(dump_only=True)
    name = fields.Str(required=True, validate=validate.Length(min=1, max=80))
    status = fields.Str(validate=validate.OneOf(["active", "retired"]))
    capacity = fields.Float(allow_none=True)


def dump_{noun}_{i}(items) -> list[dict]:
    """Serialize items for a list response."""
    return {Model}Schema{i}(many=True).dump(items)
'''

JOB = '''
def {verb}_{noun}_job_{i}(item_id: int) -> None:
    """Recompute one {noun} in the background."""
    item = db.session.get({Model0}, item_id)
    if item is None:
        return
    item.status = "active"
    db.session.commit()


def enqueue_{noun}_{i}(queue: Queue, ids: list[int]) -> int:
    """Queue one job per id; returns how many were queued."""
    for item_id in ids:
        queue.enqueue({verb}_{noun}_job_{i}, item_id)
    return len(ids)
'''


def _fill(template: str, rng: random.Random, n: int, i: int, picks: tuple[int, int]) -> str:
    noun, noun1 = rng.choice(NOUNS), rng.choice(NOUNS)
    verb = rng.choice(VERBS)
    n0, n1 = picks  # the two model modules this module imports
    return template.format(
        noun=noun, noun1=noun1, verb=verb, Verb=verb.capitalize(), i=i, n=n,
        Model=f"{noun.capitalize()}{n}", Model0=f"{NOUNS[n0 % len(NOUNS)].capitalize()}{n0}",
        Model1=f"{NOUNS[n1 % len(NOUNS)].capitalize()}{n1}", number=rng.randint(1, 500),
        small=rng.randint(2, 48), lazy=rng.choice(("select", "select", "selectin", "dynamic")),
        package="corpus", n0=n0, n1=n1,
    )


def _model_file(n: int, rng: random.Random, lines: int) -> str:
    noun = NOUNS[n % len(NOUNS)]
    parts = [textwrap.dedent(HEADERS["models"]).format(package="corpus")]
    template = MODEL.replace("{noun}", noun).replace("{Model}", f"{noun.capitalize()}{n}")
    parts.append(template.format(n=n, lazy=rng.choice(("select", "selectin", "dynamic"))))
    extra = 0
    while sum(part.count("\n") for part in parts) < lines:
        extra += 1
        parts.append(
            f'\n\nclass Owner{n}x{extra}(db.Model):\n    """Who owns things."""\n\n'
            f'    __tablename__ = "owner_{n}_{extra}"\n\n'
            "    id = db.Column(db.Integer, primary_key=True)\n"
            "    name = db.Column(db.String(80))\n"
            "    email = db.Column(db.String(120), unique=True)\n"
        )
    return "\n".join(parts)


def _module(kind: str, n: int, rng: random.Random, lines: int, models: int) -> str:
    if kind == "models":
        return _model_file(n, rng, lines)
    templates, weights = zip(*{
        # the anti-patterns (a lazy read in a loop, chained indexing, a prefix sum per
        # index) are rare, as in a real code base; the rest is ordinary code
        "services": [(SERVICE[0], 1), (SERVICE[1], 8), (SERVICE[2], 8), (SERVICE[3], 8)],
        "analytics": [(ANALYTICS[0], 8), (ANALYTICS[1], 1), (ANALYTICS[2], 8),
                      (ANALYTICS[3], 8), (ANALYTICS[4], 8)],
        "scheduling": [(SCHEDULING, 1), (SCHEDULING_PREFIX, 6)],
        "schemas": [(SCHEMA, 1)],
        "jobs": [(JOB, 1)],
    }[kind], strict=True)
    picks = (rng.randrange(models), rng.randrange(models))
    header = _fill(textwrap.dedent(HEADERS[kind]), rng, n, 0, picks)
    parts, i = [f'"""{kind.capitalize()} of the generated corpus, module {n}."""\n', header], 0
    while sum(part.count("\n") for part in parts) < lines:
        i += 1
        parts.append(_fill(rng.choices(templates, weights)[0], rng, n, i, picks))
    return "\n".join(parts)


def generate(out: Path, files: int = 500, lines: int = 120_000, seed: int = 7) -> int:
    """Write the corpus under `out/corpus`; returns the number of lines written."""
    rng = random.Random(seed)
    package = out / "corpus"
    package.mkdir(parents=True, exist_ok=True)
    (out / "pyproject.toml").write_text('[project]\nname = "corpus"\nversion = "0"\n')
    (package / "__init__.py").write_text('"""A generated benchmark corpus."""\n')
    (package / "db.py").write_text(
        "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n"
    )
    per_file = max(20, int(lines / max(files, 1) * 0.87))  # templates overshoot a little
    kinds = rng.choices(KINDS, WEIGHTS, k=files)
    models = max(1, kinds.count("models"))
    total, model_number, other_number = 0, 0, 0
    for kind in kinds:
        if kind == "models":
            name, number = f"models_{model_number}.py", model_number
            model_number += 1
        else:
            name, number = f"{kind}_{other_number}.py", other_number
            other_number += 1
        text = _module(kind, number, rng, int(per_file * rng.uniform(0.5, 1.5)), models)
        (package / name).write_text(text)
        total += text.count("\n")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--lines", type=int, default=120_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    lines = generate(args.out, args.files, args.lines, args.seed)
    print(f"wrote {args.files} files, {lines} lines under {args.out}")


if __name__ == "__main__":
    main()
