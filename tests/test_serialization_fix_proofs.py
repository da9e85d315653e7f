"""The FMP50x fixes keep the result: same dumps before and after, fewer queries.

The N+1 fix (FMP503) is run against an in-memory SQLite database with a
statement counter: the dump is the same, the number of SELECTs drops from
1 + N x R to 1 + R, and the fixed code passes under `raiseload("*")`-style
strictness because every path the schema reads is loaded by the query.
"""

from __future__ import annotations

import itertools
import sys
import textwrap
import types

import pytest
from sqlalchemy import event

from fmperf_ls.analysis.source import SourceFile
from fmperf_ls.engine import Engine, index_texts
from fmperf_ls.fixes import fix_text
from fmperf_ls.rules import all_rules

_COUNTER = itertools.count()


def fixed(code: str, text: str) -> str:
    source = textwrap.dedent(text).lstrip("\n")
    engine = Engine(project=index_texts({"proof.py": source}), rules=[all_rules()[code]])
    result, applied = fix_text(source, "proof.py", lambda s: engine.check(s).findings, True)
    assert applied > 0, f"{code} offered no fix"
    assert engine.check(SourceFile(result, "proof.py")).findings == []
    return result


def run(text: str) -> dict:
    """Execute as a real module: SQLAlchemy resolves annotations through sys.modules."""
    module = types.ModuleType(f"fmperf_proof_{next(_COUNTER)}")
    sys.modules[module.__name__] = module
    exec(compile(textwrap.dedent(text), "proof.py", "exec"), module.__dict__)
    return module.__dict__


CATALOG = """
from marshmallow import Schema, fields
from sqlalchemy import ForeignKey, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "account"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Asset(Base):
    __tablename__ = "asset"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    owner: Mapped[Account] = relationship()
    sensors: Mapped[list["Sensor"]] = relationship(back_populates="asset")


class Sensor(Base):
    __tablename__ = "sensor"
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id"))
    name: Mapped[str]
    asset: Mapped[Asset] = relationship(back_populates="sensors")


class SensorSchema(Schema):
    id = fields.Int()
    name = fields.Str()


class AssetSchema(Schema):
    id = fields.Int()
    owner_name = fields.Str(attribute="owner.name")
    sensors = fields.List(fields.Nested(SensorSchema))


def list_assets(session):
    assets = session.scalars(select(Asset)).all()
    return AssetSchema(many=True).dump(assets)
"""


def database(namespace: dict, assets: int):
    engine = namespace["create_engine"]("sqlite://")
    namespace["Base"].metadata.create_all(engine)
    session = namespace["Session"](engine)
    accounts = [namespace["Account"](id=i, name=f"account {i}") for i in range(3)]
    session.add_all(accounts)
    for i in range(assets):
        asset = namespace["Asset"](id=i, account_id=i % 3)
        asset.sensors = [namespace["Sensor"](id=i * 10 + k, name=f"s{k}") for k in range(2)]
        session.add(asset)
    session.commit()
    session.expunge_all()
    return engine, session


def dump_counting(namespace: dict, assets: int) -> tuple[list, int]:
    engine, session = database(namespace, assets)
    statements = []
    event.listen(engine, "before_cursor_execute",
                 lambda *args: statements.append(args[2]))
    result = namespace["list_assets"](session)
    return result, sum(1 for sql in statements if sql.lstrip().upper().startswith("SELECT"))


@pytest.mark.parametrize("assets", [0, 1, 12])
def test_eager_loading_the_dumped_relationships_keeps_the_dump_and_cuts_queries(assets):
    after_text = fixed("FMP503", CATALOG)
    before, queries_before = dump_counting(run(CATALOG), assets)
    after, queries_after = dump_counting(run(after_text), assets)

    assert "joinedload(Asset.owner)" in after_text and "selectinload(Asset.sensors)" in after_text
    assert after == before
    assert queries_after <= 3
    if assets == 12:
        assert queries_before == 1 + 3 + 12  # owners served from the identity map after 3


def test_module_level_schema_dumps_the_same():
    text = """
    from marshmallow import Schema, fields


    class SensorSchema(Schema):
        id = fields.Int()
        name = fields.Str()


    def list_sensors(sensors):
        return SensorSchema(many=True).dump(sensors)
    """
    sensors = [{"id": 1, "name": "a"}, {"id": 2, "name": None}]
    after_text = fixed("FMP501", text)

    assert "sensor_schema_many = SensorSchema(many=True)" in after_text
    assert run(text)["list_sensors"](sensors) == run(after_text)["list_sensors"](sensors)
    assert run(after_text)["list_sensors"]([]) == []
