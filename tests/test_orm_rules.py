"""Hand-made cases for the N+1 rules beyond their documented examples."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fmperf_ls.analysis.jedi_bridge import register_source
from fmperf_ls.analysis.source import SourceFile
from fmperf_ls.engine import Engine, index_texts
from fmperf_ls.fixes import fix_text
from fmperf_ls.rules import orm
from fmperf_ls.rules.base import Safety, Severity

FIXTURES = Path(__file__).parent / "fixtures" / "orm"
MODELS = {
    "app/models.py": (FIXTURES / "flask_models.py").read_text(),
    "app/typed.py": (FIXTURES / "typed_models.py").read_text(),
}


def check(code: str, *rules, extra: dict[str, str] | None = None):
    text = textwrap.dedent(code).lstrip("\n")
    project = index_texts({**MODELS, **(extra or {}), "app/example.py": text})
    engine = Engine(project=project, rules=list(rules) or None)
    return text, engine, engine.check(SourceFile(text, "app/example.py")).findings


def codes(findings) -> list[str]:
    return [finding.code for finding in findings]


def fixed(text: str, engine: Engine) -> str:
    check_ = lambda source: engine.check(source).findings  # noqa: E731
    return fix_text(text, "app/example.py", check_, unsafe=True)[0]


FLASK = "from app.models import Asset, GenericAsset, Sensor, Account, db\n"
TYPED = "from app.typed import Account, User\n"


@pytest.mark.parametrize(
    "code",
    [
        FLASK + "for a in Asset.query.all():\n    print(a.sensors)\n",
        FLASK + "for a in db.session.query(GenericAsset).filter_by(name='x'):\n"
        "    print(a.owner)\n",
        FLASK + "from sqlalchemy import select\n"
        "for a in db.session.scalars(select(GenericAsset)):\n    print(a.child_assets)\n",
        FLASK + "from sqlalchemy import select\n"
        "for a in db.session.execute(select(GenericAsset)).scalars().all():\n"
        "    print(a.sensors)\n",
        FLASK + "for i, a in enumerate(sorted(Asset.query.all(), key=len)):\n"
        "    print(i, a.sensors)\n",
        FLASK + "page = Asset.query.paginate(page=1)\nnames = [s.name for a in page.items "
        "for s in a.sensors]\n",
        FLASK + "def f(assets: list[Asset]):\n    return {a.id: a.owner for a in assets}\n",
        FLASK + "from typing import Sequence\n"
        "def f(sensors: 'Sequence[Sensor]'):\n    pass\n"
        "def g(sensors: Sequence[Sensor]):\n    return [s.generic_asset for s in sensors]\n",
    ],
)
def test_fmp101_flags_iterables_of_every_kind(code):
    _, _, found = check(code, orm.LazyLoadInLoop)

    assert codes(found) == ["FMP101"]


@pytest.mark.parametrize(
    "code",
    [
        FLASK + "print(Asset.query.first().sensors)\n",
        FLASK + "a = Asset.query.first()\nfor s in a.sensors:\n    print(s.name)\n",
        FLASK + "from sqlalchemy.orm import selectinload\n"
        "for a in Asset.query.options(selectinload(Asset.sensors)):\n    print(a.sensors)\n",
        FLASK + "for a in Asset.query.options(db.selectinload('sensors')):\n"
        "    print(a.sensors)\n",
        FLASK + "from sqlalchemy.orm import raiseload\n"
        "for a in Asset.query.options(raiseload('*')):\n    print(a.sensors)\n",
        FLASK + "opts = [db.joinedload(Asset.owner)]\n"
        "for a in Asset.query.options(*opts):\n    print(a.owner)\n",
        FLASK + "for a in Asset.query.all():\n    a.owner = None\n    del a.sensors\n",
        FLASK + "for s in Asset.query.first().sensors:\n    print(s.generic_asset.name)\n",
        FLASK + "from app.models import TimedBelief\n"
        "for b in TimedBelief.query.all():\n    print(b.sensor)\n",
        TYPED + "def f(users: list[User]):\n    return [u.manager for u in users]\n",
        FLASK + "for a in get_assets():\n    print(a.sensors)\n",
        FLASK + "for row in db.session.query(Asset, Sensor).join(Sensor):\n"
        "    print(row.Asset.sensors)\n",
    ],
)
def test_fmp101_stays_silent(code):
    _, _, found = check(code, orm.LazyLoadInLoop)

    assert found == []


def test_fmp101_lookup_table_is_information():
    _, _, found = check(FLASK + "for a in Asset.query.all():\n    print(a.generic_asset_type)\n",
                        orm.LazyLoadInLoop)

    assert [f.severity for f in found] == [Severity.INFORMATION]
    assert found[0].cost == "one SELECT per GenericAsset: 1 + N queries"


def test_fmp101_dynamic_and_write_only_get_advice_and_no_fix():
    code = FLASK + "for a in Account.query.all():\n    print(a.roles, list(a.roles))\n" + (
        "from app.models import AccountRole\n"
        "for r in AccountRole.query.all():\n    print(r.accounts.count())\n")
    _, _, found = check(code, orm.LazyLoadInLoop)

    assert [("dynamic" in f.message, f.fix is None) for f in found] == [(False, False),
                                                                       (True, True)]


def test_fmp101_async_session_is_an_error():
    code = TYPED + (
        "from sqlalchemy import select\n"
        "async def f(session):\n"
        "    users = (await session.scalars(select(User))).all()\n"
        "    return [u.account.name for u in users]\n"
    )
    _, _, found = check(code, orm.LazyLoadInLoop)

    assert [f.severity for f in found] == [Severity.ERROR]


def test_fmp101_fix_appends_to_existing_options_and_merges_import():
    code = FLASK + (
        "from sqlalchemy.orm import joinedload\n"
        "def f():\n"
        "    assets = Asset.query.options(joinedload(Asset.owner)).all()\n"
        "    return [(a.owner, a.sensors) for a in assets]\n"
    )
    text, engine, found = check(code, orm.LazyLoadInLoop)

    assert codes(found) == ["FMP101"]
    assert found[0].fix.safety is Safety.SAFE
    assert "from sqlalchemy.orm import joinedload, selectinload\n" in fixed(text, engine)
    assert ".options(joinedload(Asset.owner), selectinload(Asset.sensors))" in fixed(
        text, engine)


def test_fmp101_fix_on_the_statement_variable_and_reuse_is_unsafe():
    code = FLASK + (
        "from sqlalchemy import select\n"
        "def f():\n"
        "    stmt = select(GenericAsset).where(GenericAsset.id > 1)\n"
        "    count = len(db.session.scalars(stmt).all())\n"
        "    for a in db.session.scalars(stmt):\n"
        "        print(a.child_assets, count)\n"
    )
    text, engine, found = check(code, orm.LazyLoadInLoop)

    assert found[0].fix.safety is Safety.UNSAFE
    assert ("stmt = select(GenericAsset).where(GenericAsset.id > 1)"
            ".options(selectinload(GenericAsset.child_assets))") in fixed(text, engine)


def test_fmp101_no_fix_when_the_query_is_built_elsewhere():
    code = FLASK + (
        "def all_assets():\n    return Asset.query.all()\n"
        "def f(assets: list[Asset]):\n    return [a.sensors for a in assets]\n"
    )
    _, _, found = check(code, orm.LazyLoadInLoop)

    assert codes(found) == ["FMP101"] and found[0].fix is None


def test_fmp101_nested_fix_chains_and_imports_the_inner_class():
    code = "from app.models import Account\n" + (
        "for account in Account.query.all():\n"
        "    for asset in account.generic_assets:\n"
        "        print(asset.sensors)\n"
    )
    text, engine, found = check(code, orm.LazyLoadInLoop)
    result = fixed(text, engine)

    assert codes(found) == ["FMP101", "FMP101"]
    assert ("selectinload(Account.generic_assets).selectinload(GenericAsset.sensors)"
            in result)
    assert "from app.models import Account, GenericAsset\n" in result
    assert check(result, orm.LazyLoadInLoop)[2] == []


def test_fmp102_through_an_imported_helper_is_not_guessed():
    helpers = {"app/helpers.py": "def describe(asset):\n    return asset.sensors\n"}
    code = FLASK + "from app.helpers import describe\n" + (
        "for a in Asset.query.all():\n    describe(a)\n")
    _, _, found = check(code, orm.LazyLoadInCallee, extra=helpers)

    assert found == []  # another module, and no jedi lookup configured


def test_fmp103_method_recursion_and_no_recursion_on_other_classes():
    code = FLASK + (
        "class Walker:\n"
        "    def path(self, asset: GenericAsset) -> str:\n"
        "        if asset.parent_asset is None:\n"
        "            return asset.name\n"
        "        return self.path(asset.parent_asset)\n"
        "def owners(asset: GenericAsset):\n"
        "    return [owners(s) for s in asset.sensors]\n"
    )
    _, _, found = check(code, orm.RecursiveLazyTraversal)

    assert [(f.code, str(f.range)) for f in found] == [("FMP103", "6:15-6:44")]


@pytest.mark.parametrize(
    "body",
    [
        "    def walk(self, asset: GenericAsset):\n"
        "        return [self.visit(c) for c in asset.child_assets]\n"
        "    def visit(self, asset: GenericAsset):\n        return self.walk(asset)\n",
        "    def walk(self, asset: GenericAsset):\n"
        "        for child in asset.child_assets:\n            self.walk(child)\n",
    ],
)
def test_fmp103_mutual_and_loop_recursion_through_self(body):
    _, _, found = check(FLASK + "class Walker:\n" + body, orm.RecursiveLazyTraversal)

    assert codes(found) == ["FMP103"]


@pytest.mark.parametrize(
    "body",
    [
        # another object's method of the same name: not this class's recursion
        "    def walk(self, asset: GenericAsset):\n"
        "        return [other.walk(c) for c in asset.child_assets]\n",
        # a static method has no `self`; the first argument is the subject
        "    @staticmethod\n    def walk(helper, asset: GenericAsset):\n"
        "        return [helper.walk(c) for c in asset.child_assets]\n",
        # recursion over another class's relationship: not one tree
        "    def walk(self, asset: GenericAsset):\n"
        "        return [self.walk(s) for s in asset.sensors]\n",
    ],
)
def test_fmp103_no_recursion_through_self(body):
    code = FLASK + "other = None\nclass Walker:\n" + body
    _, _, found = check(code, orm.RecursiveLazyTraversal)

    assert found == []


def test_fmp102_through_a_method_of_the_same_class():
    code = FLASK + (
        "class Report:\n"
        "    def rows(self):\n"
        "        assets = Asset.query.all()\n"
        "        return [self.describe(a) for a in assets]\n"
        "    def describe(self, asset):\n"
        "        return self.count(asset)\n"
        "    def count(self, asset):\n"
        "        return len(asset.sensors)\n"
    )
    text, engine, found = check(code, orm.LazyLoadInCallee)

    assert [(f.code, str(f.range)) for f in found] == [("FMP102", "5:16-5:32")]
    assert found[0].message.startswith("self.describe() reads GenericAsset.sensors")
    assert str(found[0].related[0].range) == "9:19-9:32"
    assert "options(selectinload(Asset.sensors))" in fixed(text, engine)


@pytest.mark.parametrize(
    "code",
    [
        # overridden in a subclass of the same module: the override may run instead
        "class Report:\n"
        "    def rows(self):\n        return [self.describe(a) for a in Asset.query.all()]\n"
        "    def describe(self, asset):\n        return len(asset.sensors)\n"
        "class Short(Report):\n    def describe(self, asset):\n        return asset.name\n",
        # `helper` is another object, not `self`
        "class Report:\n"
        "    def rows(self, helper):\n"
        "        return [helper.describe(a) for a in Asset.query.all()]\n"
        "    def describe(self, asset):\n        return len(asset.sensors)\n",
        # a class method's `cls.describe` is not followed
        "class Report:\n    @classmethod\n"
        "    def rows(cls):\n        return [cls.describe(a) for a in Asset.query.all()]\n"
        "    @classmethod\n    def describe(cls, asset):\n        return len(asset.sensors)\n",
        # the method reads a column only
        "class Report:\n"
        "    def rows(self):\n        return [self.describe(a) for a in Asset.query.all()]\n"
        "    def describe(self, asset):\n        return asset.name\n",
    ],
)
def test_fmp102_methods_stay_silent(code):
    _, _, found = check(FLASK + code, orm.LazyLoadInCallee)

    assert found == []


def test_fmp101_contains_eager_advice_when_the_query_joins():
    code = FLASK + (
        "from sqlalchemy import select\n"
        "for a in Asset.query.join(Asset.sensors).all():\n    print(a.sensors)\n"
        "for a in db.session.scalars(select(GenericAsset).join(Sensor)):\n"
        "    print(a.sensors)\n"
        "for a in Asset.query.join(Account).all():\n    print(a.sensors)\n"
    )
    text, engine, found = check(code, orm.LazyLoadInLoop)

    assert codes(found) == ["FMP101"] * 3
    assert "contains_eager(Asset.sensors) would fill it" in found[0].message
    assert "contains_eager(GenericAsset.sensors)" in found[1].message
    assert "contains_eager" not in found[2].message  # another table is joined
    assert all(f.fix is not None for f in found)
    assert "contains_eager" not in fixed(text, engine)  # advice, never an edit


def test_fmp104_variants():
    code = FLASK + (
        "from sqlalchemy import select, delete, text\n"
        "def f(ids, statements, tables):\n"
        "    for i in ids:\n"
        "        db.session.execute(select(Sensor).where(Sensor.id == i))\n"
        "        db.session.execute(delete(Sensor).where(Sensor.id == i))\n"
        "    for q in statements:\n"
        "        db.session.scalars(q).all()\n"
        "    for t in tables:\n"
        "        db.session.execute(text(f'select 1 from {t}'))\n"
        "    while ids:\n"
        "        Sensor.query.filter_by(id=ids.pop()).first()\n"
    )
    _, _, found = check(code, orm.QueryInLoop)

    assert [f.range.start.line for f in found] == [4]


def test_fmp106_composite_and_refined_queries():
    code = FLASK + (
        "def f(q, name):\n"
        "    Sensor.query.filter(Sensor.unit == 'kW', Sensor.id > 3).all()\n"
        "    q = q.filter(Sensor.unit == 'kW')\n"
        "    Sensor.query.join(GenericAsset).filter(Sensor.unit == name).all()\n"
        "    return GenericAsset.query.filter_by(latitude=1.0).all()\n"
    )
    _, _, found = check(code, orm.UnindexedFilter)

    assert [f.message.split(" ")[0] for f in found] == ["GenericAsset.latitude"]


def test_fmp101_awaited_execute_result_is_an_error():
    code = TYPED + (
        "from sqlalchemy import select\n"
        "async def f(session):\n"
        "    result = await session.execute(select(User).where(User.id > 1))\n"
        "    for u in result.scalars():\n"
        "        print(u.account)\n"
    )
    _, _, found = check(code, orm.LazyLoadInLoop)

    assert [f.severity for f in found] == [Severity.ERROR]


HELPERS = '''
from app.models import Asset


def describe(asset):
    return len(asset.sensors)


def top_assets() -> list[Asset]:
    return Asset.query.all()
'''


def helper_lookup(text: str):
    """A stand-in for the jedi lookup: names imported from app.helpers lead to its functions."""
    module = SourceFile(text.lstrip("\n"), "app/helpers.py")
    register_source(module)
    functions = {node.name.value: node for node in module.tree.iter_funcdefs()}

    def lookup(source, name):
        return functions.get(name.value)

    return lookup


def test_fmp101_and_fmp102_follow_imported_helpers_through_the_lookup():
    code = textwrap.dedent(FLASK + (
        "from app.helpers import describe, top_assets\n"
        "for a in Asset.query.all():\n    describe(a)\n"
        "for b in top_assets():\n    print(b.child_assets)\n"
    ))
    project = index_texts({**MODELS, "app/example.py": code})
    engine = Engine(project=project, jedi_lookup=helper_lookup(HELPERS),
                    rules=[orm.LazyLoadInLoop, orm.LazyLoadInCallee])

    found = engine.check(SourceFile(code, "app/example.py")).findings

    assert [(f.code, f.range.start.line) for f in found] == [("FMP102", 3), ("FMP101", 5)]
    assert found[0].related[0].path == "app/helpers.py"
    assert found[0].fix is not None and found[1].fix is None


@pytest.mark.parametrize(
    "start",
    [
        "asset = db.session.get(GenericAsset, 1)",
        "asset = GenericAsset.query.filter_by(id=1).first()",
        "asset = db.session.execute(select(GenericAsset).where(GenericAsset.id == 1))"
        ".scalar_one()",
        "asset = find(1)",
    ],
)
def test_single_objects_start_nested_loops_and_climbs(start):
    code = FLASK + "from sqlalchemy import select\n" + (
        "def find(i) -> Optional[GenericAsset]:\n    return None\n"
        f"def f():\n    {start}\n"
        "    for sensor in asset.sensors:\n"
        "        print(sensor.generic_asset.owner, sensor.beliefs.count())\n"
        "    node = asset\n    while node is not None:\n        node = node.parent_asset\n"
    )
    _, _, found = check(code, orm.LazyLoadInLoop, orm.RecursiveLazyTraversal)

    assert codes(found) == ["FMP101", "FMP103"]
    assert "Sensor.beliefs" in found[0].message  # dynamic; the asset's owner loads once
