"""The ORM rules' gates: files they rule out unparsed, and files they must let through.

A gate answers from the `ast` outline before any parso parse. Each case that
must pass is also checked end to end, so that the file really holds a finding
the gate would otherwise have hidden.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fmperf_ls.analysis import infer
from fmperf_ls.analysis.infer import TypeFacade
from fmperf_ls.analysis.jedi_bridge import register_source
from fmperf_ls.analysis.source import SourceFile
from fmperf_ls.config import Settings
from fmperf_ls.engine import Context, Engine, index_texts
from fmperf_ls.rules import orm

FIXTURES = Path(__file__).parent / "fixtures" / "orm"
MODELS = {
    "app/models.py": (FIXTURES / "flask_models.py").read_text(),
    "app/typed.py": (FIXTURES / "typed_models.py").read_text(),
}
PATH = "app/example.py"
FLASK = "from app.models import Asset, GenericAsset, Sensor, Account, db\n"


def flask(body: str) -> str:
    """A module importing the Flask fixture models, then `body`."""
    return FLASK + textwrap.dedent(body).lstrip("\n")


def gate(rule, code: str, models: dict[str, str] | None = None) -> bool:
    """The rule's gate on `code`, asked as the engine asks it: of an unparsed file."""
    text = textwrap.dedent(code).lstrip("\n")
    project = index_texts(MODELS if models is None else models)
    source = SourceFile(text, PATH)
    ctx = Context(source, Settings(), TypeFacade(source, 1.0), project)

    answer = rule().gate(source.outline, ctx)

    assert not source.parsed  # a gate that parses saves nothing
    if not answer:  # ruled out: the rule run without its gate must find nothing either
        ungated = Engine(project=project, rules=[rule], gates=False)
        assert ungated.check(SourceFile(text, PATH)).findings == []
    return answer


def findings(rule, code: str, lookup=None) -> list[str]:
    text = textwrap.dedent(code).lstrip("\n")
    engine = Engine(project=index_texts(MODELS), jedi_lookup=lookup, rules=[rule])
    return [finding.code for finding in engine.check(SourceFile(text, PATH)).findings]


def test_no_relationship_in_the_workspace_rules_out_every_relationship_rule():
    code = flask("for a in Asset.query.all():\n    print(a.sensors)\n")
    plain = {"app/models.py": "class Asset:\n    pass\n"}

    for rule in (orm.LazyLoadInLoop, orm.LazyLoadInCallee, orm.RecursiveLazyTraversal):
        assert gate(rule, code, plain) is False


def test_a_file_defining_models_is_let_through_on_its_own_relationships():
    """The check indexes the file first: names the index does not know yet may count."""
    code = """
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()


        class Node(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            parent_id = db.Column(db.Integer, db.ForeignKey("node.id"))
            kids = db.relationship("Node")


        def report():
            for node in Node.query.all():
                print(len(node.kids))
        """

    assert gate(orm.LazyLoadInLoop, code) is True
    assert findings(orm.LazyLoadInLoop, code) == ["FMP101"]


# -- FMP101 --------------------------------------------------------------------------


def test_fmp101_rules_out_loops_over_dicts_and_reads_outside_loops():
    code = flask("""
        def totals(rows):
            owner = Asset.query.first().owner
            for row in rows:
                print(row["sensors"], row.get("owner"), row.name)
            return owner
        """)

    assert gate(orm.LazyLoadInLoop, code) is False


def test_fmp101_lets_through_a_chain_of_relationships_on_an_enumerated_target():
    code = flask("""
        def owners():
            for i, sensor in enumerate(Sensor.query.all()):
                print(i, sensor.generic_asset.owner.name)
        """)

    assert gate(orm.LazyLoadInLoop, code) is True
    assert findings(orm.LazyLoadInLoop, code) == ["FMP101", "FMP101"]


def test_a_model_file_the_index_already_holds_is_judged_by_the_index():
    """In a command-line run every file is indexed before it is checked: its own
    relationships are in the index, and a loop reading none of them is ruled out."""
    code = textwrap.dedent("""
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()


        class Node(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            parent_id = db.Column(db.Integer, db.ForeignKey("node.id"))
            kids = db.relationship("Node")


        def ids(nodes):
            return [node.id for node in nodes]
        """).lstrip("\n")

    assert gate(orm.LazyLoadInLoop, code) is True  # not indexed yet: `kids` may count
    assert gate(orm.LazyLoadInLoop, code, {**MODELS, PATH: code}) is False


# -- FMP102 --------------------------------------------------------------------------


def test_fmp102_rules_out_loops_calling_builtins_and_unknown_functions():
    code = flask("""
        def report(process):
            for asset in Asset.query.all():
                print(asset)
                process(asset)
                asset.save()
        """)

    assert gate(orm.LazyLoadInCallee, code) is False


@pytest.mark.parametrize(
    "other_helper",
    [
        "",  # no relationship is read anywhere in the file
        "def sensors_of(asset):\n    return asset.sensors\n",  # read, but not by the callee
    ],
)
def test_fmp102_rules_out_a_local_helper_that_reads_columns_only(other_helper):
    """Which function reads what counts, not whether the file names a relationship."""
    code = flask(other_helper) + textwrap.dedent("""
        def describe(asset):
            return asset.name


        def report():
            for asset in Asset.query.all():
                print(describe(asset))
        """)

    assert gate(orm.LazyLoadInCallee, code) is False


def test_fmp102_lets_through_an_aliased_helper_of_another_module():
    """The reads are in the other module: this file holds no relationship name at all."""
    helpers = SourceFile("def describe(asset):\n    return len(asset.sensors)\n",
                         "app/helpers.py")
    register_source(helpers)
    describe = next(helpers.tree.iter_funcdefs())
    code = flask("""
        from app.helpers import describe as summary

        while True:
            for asset in Asset.query.all():
                summary(asset)
        """)

    assert gate(orm.LazyLoadInCallee, code) is True
    assert findings(orm.LazyLoadInCallee, code, lambda source, name: describe) == ["FMP102"]


def test_fmp102_lets_through_a_helper_that_reads_through_another_helper():
    code = flask("""
        def count(asset):
            return len(asset.sensors)


        def describe(asset):
            return f"{asset.name}: {count(asset)}"


        def report():
            for asset in Asset.query.all():
                print(describe(asset))
        """)

    assert gate(orm.LazyLoadInCallee, code) is True
    assert findings(orm.LazyLoadInCallee, code) == ["FMP102"]


def on_disk(root: Path, files: dict[str, str]) -> dict[str, str]:
    """Write a project under `root`; its texts by absolute path."""
    texts = {}
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        texts[str(path)] = path.read_text()
    return texts


HELPERS = """
    def describe(asset):
        return len(asset.sensors)


    def label(asset):
        return asset.name.title()
    """


@pytest.mark.parametrize(
    ("imports", "call", "expected"),
    [
        ("from app.helpers import describe", "describe(asset)", ["FMP102"]),
        ("from .helpers import describe", "describe(asset)", ["FMP102"]),
        ("from app.helpers import label", "label(asset)", []),
        ("from json import dumps", "dumps(asset)", []),
        ("from app.models import GenericAsset as Make", "Make(asset)", []),
    ],
)
def test_fmp102_gate_reads_the_imported_module_on_disk(tmp_path, imports, call, expected):
    """Project helpers are judged by their module's outline; library functions are not
    followed, by the gate nor by the rule with a real jedi."""
    texts = on_disk(tmp_path, {
        "app/__init__.py": "",
        "app/models.py": MODELS["app/models.py"],
        "app/helpers.py": HELPERS,
        "app/views.py": FLASK + f"""
            {imports}


            def report():
                for asset in Asset.query.all():
                    print({call})
            """.replace("\n            ", "\n"),
    })
    view = str(tmp_path / "app" / "views.py")
    project = index_texts(texts, tmp_path)
    source = SourceFile(texts[view], view)
    ctx = Context(source, Settings(), TypeFacade(source, 1.0), project)

    admitted = orm.LazyLoadInCallee().gate(source.outline, ctx)

    engine = Engine(project=project, jedi_lookup=infer.jedi_definition(tmp_path),
                    rules=[orm.LazyLoadInCallee], gates=False)
    found = [finding.code for finding in engine.check(SourceFile(texts[view], view)).findings]
    assert found == expected
    assert admitted is bool(expected)


# -- FMP103 --------------------------------------------------------------------------


def test_fmp103_rules_out_functions_over_relationships_that_do_not_recurse():
    code = flask("""
        def names(asset: GenericAsset):
            return [child.name for child in asset.child_assets]


        def show(asset: GenericAsset):
            for child in asset.child_assets:
                print(names(asset))
            parent = asset.parent_asset
            while parent is not None:
                parent = None
        """)

    assert gate(orm.RecursiveLazyTraversal, code) is False


def test_fmp103_lets_through_a_climb_in_a_while_loop_from_an_assigned_start():
    code = flask("""
        def depth(sensor: Sensor) -> int:
            node = sensor.generic_asset
            levels = 0
            while node is not None:
                levels += 1
                node = node.parent_asset
            return levels
        """)

    assert gate(orm.RecursiveLazyTraversal, code) is True
    assert findings(orm.RecursiveLazyTraversal, code) == ["FMP103"]


def test_fmp103_lets_through_recursion_through_a_dict_comprehension():
    code = flask("""
        def tree(asset: GenericAsset) -> dict:
            return {child.name: tree(child) for child in asset.child_assets}
        """)

    assert gate(orm.RecursiveLazyTraversal, code) is True
    assert findings(orm.RecursiveLazyTraversal, code) == ["FMP103"]


# -- FMP104 --------------------------------------------------------------------------


def test_fmp104_rules_out_dict_lookups_in_loops_and_queries_outside_them():
    code = flask("""
        def units(sensor_ids, cache):
            sensors = Sensor.query.filter(Sensor.id.in_(sensor_ids)).all()
            for sensor_id in sensor_ids:
                print(cache.get(sensor_id), cache.first())
            while sensors:
                print(db.session.get(Sensor, sensors.pop()))
            return sensors
        """)

    assert gate(orm.QueryInLoop, code) is False


def test_fmp104_lets_through_an_awaited_session_in_an_async_loop():
    code = """
        from sqlalchemy import select

        from app.typed import User


        async def emails(session, ids):
            found = []
            async for user_id in ids:
                found.append(await session.scalar(select(User).where(User.id == user_id)))
            return found
        """

    assert gate(orm.QueryInLoop, code) is True
    assert findings(orm.QueryInLoop, code) == ["FMP104"]


def test_fmp104_rules_out_queries_that_do_not_depend_on_the_loop():
    """The same query every time, a literal handful of models, a first iterable run once."""
    code = flask("""
        def report(names, kinds):
            for name in names:
                print(name, db.session.query(Asset).count())
            for model in (Asset, Sensor):
                print(model.query.count())
            return [kind for kind in Sensor.query.filter_by(unit="kW").all() if kind in kinds]
        """)

    assert gate(orm.QueryInLoop, code) is False


@pytest.mark.parametrize("loop", [
    """
    for sensor_id in sensor_ids:
        wanted = sensor_id + 1
        found.append(Sensor.query.filter_by(id=wanted).first())
    """,
    """
    for sensor_id in 1, 2, 3:
        found.append(db.session.get(Sensor, sensor_id))
    """,
    """
    found += [sensor for account in Account.query.all()
              for sensor in Sensor.query.filter_by(account_id=account.id).all()]
    """,
    """
    found.append(Sensor.query.filter(
        Sensor.id.in_(ids)).first().name for ids in sensor_ids)
    """,
], ids=["assigned-in-the-body", "bare-tuple", "later-generator", "trailer-after-the-query"])
def test_fmp104_lets_through_queries_that_name_what_the_loop_binds(loop: str):
    body = textwrap.indent(textwrap.dedent(loop).strip("\n"), "    ")
    code = flask(f"def sensors(sensor_ids):\n    found = []\n{body}\n    return found\n")

    assert gate(orm.QueryInLoop, code) is True
    assert findings(orm.QueryInLoop, code) == ["FMP104"]


# -- FMP105 --------------------------------------------------------------------------


def test_fmp105_rules_out_handlers_that_fetch_one_row_and_helpers_without_routes():
    code = flask("""
        from flask import Flask

        app = Flask(__name__)


        @app.route("/assets/<int:id>")
        def show(id):
            return Asset.query.get(id).name


        def export():
            return Asset.query.all()
        """)

    assert gate(orm.UnboundedListQuery, code) is False


def test_fmp105_lets_through_a_route_named_in_a_comment_above_the_decorator():
    """The check reads the decorators with the comments just above them."""
    code = flask("""
        from functools import cache


        # the route table lists this one
        @cache
        def everything():
            rows = Asset.query.all()
            return rows
        """)

    assert gate(orm.UnboundedListQuery, code) is True
    assert findings(orm.UnboundedListQuery, code) == ["FMP105"]


# -- FMP106 --------------------------------------------------------------------------


def test_fmp106_rules_out_filters_on_things_that_are_not_mapped_classes():
    code = """
        import pandas as pd


        def recent(frame: pd.DataFrame, items):
            rows = frame.where(frame.value > 3).filter(items=["a"])
            return sorted(filter(None, items)), rows.filter_by(kind="x")
        """

    assert gate(orm.UnindexedFilter, code) is False


def test_fmp106_rules_out_filters_on_indexed_columns_only():
    code = """
        from app.models import GenericAsset, Sensor


        def lookups(asset_id, account_id):
            sensors = Sensor.query.filter(Sensor.generic_asset_id == asset_id).all()
            assets = GenericAsset.query.filter_by(account_id=account_id).order_by(
                GenericAsset.id).all()
            return sensors, assets
        """

    assert gate(orm.UnindexedFilter, code) is False


@pytest.mark.parametrize(
    "code",
    [
        "from app.models import Sensor as S\n\n\n"
        "def by_unit(unit):\n    return S.query.filter(S.unit == unit).all()\n",
        "from app.models import Asset\n\n\n"
        "def by_name(name):\n    return Asset.query.order_by(Asset.latitude).all()\n",
    ],
)
def test_fmp106_lets_through_an_aliased_import_and_a_class_alias(code):
    assert gate(orm.UnindexedFilter, code) is True
    assert findings(orm.UnindexedFilter, code) == ["FMP106"]
