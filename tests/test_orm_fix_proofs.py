"""The eager-loading fixes, proven on a database: same rows, fewer statements, no lazy load.

Each fixed example of FMP101/FMP102 runs before and after its fix against
in-memory SQLite, with the example's own models (Flask-SQLAlchemy with
backrefs, and SQLAlchemy 2.0 typed). A `before_cursor_execute` listener counts
statements; after the fix every top-level ORM query also carries
`raiseload("*")`, so a path the fix failed to load raises instead of loading.
"""

from __future__ import annotations

import contextlib
import io
import sys
import types

import pytest

pytest.importorskip("flask_sqlalchemy")

from flask import Flask  # noqa: E402
from sqlalchemy import create_engine, event  # noqa: E402
from sqlalchemy.orm import Session, raiseload  # noqa: E402

from fmperf_ls.engine import Engine, index_texts  # noqa: E402
from fmperf_ls.fixes import fix_text  # noqa: E402
from fmperf_ls.rules import orm  # noqa: E402


def module_from(name: str, text: str) -> types.ModuleType:
    """Execute text as module `name`; it stays in sys.modules (typed models need that)."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(text, f"{name}.py", "exec"), module.__dict__)
    return module


def fixed_source(rule, example) -> str:
    project = index_texts({**example.other_files, "example.py": example.source})
    engine = Engine(project=project, rules=[rule])
    text, applied = fix_text(example.source, "example.py",
                             lambda source: engine.check(source).findings, unsafe=True)
    assert applied >= 1
    assert text == example.fixed_source
    return text


class Counter:
    def __init__(self):
        self.statements = 0

    def __call__(self, *args, **kwargs):
        self.statements += 1


def strict(session: Session):
    """Add raiseload("*") to every top-level ORM SELECT of the session.

    `sql_only=True`: a many-to-one found in the identity map emits no SQL and is
    allowed; any lazy load that would query raises.
    """

    @event.listens_for(session, "do_orm_execute")
    def add_raiseload(state):
        if state.is_select and not state.is_relationship_load:
            state.statement = state.statement.options(raiseload("*", sql_only=True))

    return add_raiseload


# -- Flask-SQLAlchemy --------------------------------------------------------------


@pytest.fixture(scope="module")
def flask_models():
    models = module_from("models", orm._FLASK_MODELS)
    app = Flask("proofs")
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    models.db.init_app(app)
    with app.app_context():
        models.db.create_all()
        seed_flask(models)
        yield models


def seed_flask(m):
    db = m.db
    types_ = [m.AssetType(name=f"type {n}") for n in range(3)]
    root = m.Asset(name="root", type=types_[0])
    db.session.add(root)
    db.session.flush()
    for n in range(6):
        asset = m.Asset(name=f"asset {n % 2}", parent_id=root.id, type=types_[n % 3])
        db.session.add(asset)
        for k in range(3):
            db.session.add(m.Sensor(name=f"s{n}.{k}", unit="kW", asset=asset))
    db.session.commit()


def run_flask(models, text: str, call: str, strict_mode: bool):
    db = models.db
    db.session.remove()  # a fresh session: nothing in the identity map
    sys.modules["models"] = models
    try:
        counter = Counter()
        event.listen(db.engine, "before_cursor_execute", counter)
        listener = strict(db.session()) if strict_mode else None
        output = io.StringIO()
        try:
            with contextlib.redirect_stdout(output):
                module = module_from("example", text)  # module-level examples run here
                result = eval(call, module.__dict__)
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
            if listener is not None:
                event.remove(db.session(), "do_orm_execute", listener)
        return result, output.getvalue(), counter.statements
    finally:
        sys.modules.pop("models", None)
        sys.modules.pop("example", None)
        db.session.remove()


FLASK_CASES = [
    (orm.LazyLoadInLoop, 0, "asset_report('asset 1')"),
    (orm.LazyLoadInLoop, 3, "None"),
    (orm.LazyLoadInCallee, 0, "report()"),
]


@pytest.mark.parametrize(("rule", "number", "call"), FLASK_CASES,
                         ids=[f"{r.code}-{n}" for r, n, _ in FLASK_CASES])
def test_flask_fix_same_rows_fewer_statements(flask_models, rule, number, call):
    example = rule.examples[number]
    after_text = fixed_source(rule, example)

    before = run_flask(flask_models, example.source, call, strict_mode=False)
    after = run_flask(flask_models, after_text, call, strict_mode=True)

    assert after[:2] == before[:2]
    assert before[1] or before[0]  # the example did something to compare
    assert after[2] < before[2]
    assert after[2] <= 3


# -- SQLAlchemy 2.0 typed ---------------------------------------------------------------


@pytest.fixture(scope="module")
def typed_models():
    models = module_from("typed", orm._TYPED_MODELS)
    engine = create_engine("sqlite://")
    models.Base.metadata.create_all(engine)
    with Session(engine) as session:
        for n in range(5):
            account = models.Account(name=f"account {n}")
            session.add(account)
            for k in range(2):
                session.add(models.User(email=f"u{n}.{k}@example.com", account=account))
        session.commit()
    yield models, engine
    sys.modules.pop("typed", None)


def run_typed(typed, text: str, call: str, strict_mode: bool):
    models, engine = typed
    sys.modules["typed"] = models
    try:
        module = module_from("example", text)
        counter = Counter()
        event.listen(engine, "before_cursor_execute", counter)
        output = io.StringIO()
        with Session(engine) as session:
            if strict_mode:
                strict(session)
            try:
                with contextlib.redirect_stdout(output):
                    result = eval(call, {**module.__dict__, "session": session})
            finally:
                event.remove(engine, "before_cursor_execute", counter)
        return result, output.getvalue(), counter.statements
    finally:
        sys.modules.pop("example", None)


def test_typed_fix_same_rows_fewer_statements(typed_models):
    rule, example = orm.LazyLoadInLoop, orm.LazyLoadInLoop.examples[1]
    after_text = fixed_source(rule, example)

    before = run_typed(typed_models, example.source, "emails_by_account(session)", False)
    after = run_typed(typed_models, after_text, "emails_by_account(session)", True)

    assert after[1] == before[1] and before[1].count("\n") == 10
    assert after[2] == 1 < before[2]


def test_strict_mode_catches_a_lazy_load(typed_models):
    """The raiseload guard is real: the unfixed example fails under it."""
    example = orm.LazyLoadInLoop.examples[1]

    with pytest.raises(Exception, match="lazy"):
        run_typed(typed_models, example.source, "emails_by_account(session)", True)
