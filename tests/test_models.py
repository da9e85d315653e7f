"""The model index: what it reads from real-looking model modules, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fmperf_ls.analysis.models import (
    ModelIndex,
    could_define_models,
    may_hold_model_facts,
    read_models,
)
from fmperf_ls.analysis.project import ProjectIndex
from fmperf_ls.analysis.source import SourceFile

FIXTURES = Path(__file__).parent / "fixtures" / "orm"


@pytest.fixture(scope="module")
def index() -> ModelIndex:
    project = ProjectIndex()
    count = project.index_files(sorted(FIXTURES.glob("*.py")))
    assert count == 2
    return project.models


def rel(index: ModelIndex, cls: str, attribute: str):
    found = index.relationship(index.mapped_class(cls, "flask_models"), attribute)
    assert found is not None, f"{cls}.{attribute} not found"
    return found


def test_flask_classes_are_mapped_and_mixins_are_not(index):
    assert index.mapped_class("GenericAsset") is not None
    assert index.mapped_class("Sensor").name == "Sensor"
    assert index.mapped_class("AuthMixin") is None
    assert index.mapped_class("Base") is None  # the declarative base itself
    assert index.tablename(index.mapped_class("GenericAssetType")) == "generic_asset_type"


def test_alias_resolves_to_the_class(index):
    assert index.mapped_class("Asset") is index.mapped_class("GenericAsset")


@pytest.mark.parametrize(
    ("cls", "attribute", "target", "lazy", "collection"),
    [
        ("GenericAsset", "sensors", "Sensor", "select", True),  # backref of a many-to-one
        ("Sensor", "generic_asset", "GenericAsset", "select", False),
        ("GenericAsset", "child_assets", "GenericAsset", "select", True),
        ("GenericAsset", "parent_asset", "GenericAsset", "select", False),  # remote_side
        ("Account", "generic_assets", "GenericAsset", "select", True),
        ("GenericAssetType", "generic_assets", "GenericAsset", "select", True),  # "name"
        ("Account", "clients", "Account", "select", True),
        ("Account", "consultancy", "Account", "select", False),
        ("Account", "roles", "AccountRole", "select", True),  # secondary
        ("AccountRole", "accounts", "Account", "dynamic", True),
        ("Sensor", "beliefs", "TimedBelief", "dynamic", True),
        ("TimedBelief", "sensor", "Sensor", "joined", False),
    ],
)
def test_flask_relationships(index, cls, attribute, target, lazy, collection):
    found = rel(index, cls, attribute)
    assert (found.target, found.lazy, index.is_collection(found)) == (target, lazy, collection)


def test_backref_records_its_inverse(index):
    assert rel(index, "GenericAsset", "sensors").inverse == "generic_asset"
    assert rel(index, "GenericAsset", "sensors").created_by_backref


@pytest.mark.parametrize(
    ("cls", "attribute", "lazy", "collection"),
    [
        ("Account", "users", "select", True),
        ("User", "account", "select", False),
        ("User", "manager", "selectin", False),
        ("Account", "audit", "select", True),
    ],
)
def test_typed_relationships(index, cls, attribute, lazy, collection):
    found = index.relationship(index.mapped_class(cls, "typed_models"), attribute)
    assert (found.lazy, index.is_collection(found)) == (lazy, collection)


def test_columns_and_indexes(index):
    asset = index.mapped_class("GenericAsset")
    sensor = index.mapped_class("Sensor")
    assert index.is_indexed(asset, "id") is True
    assert index.is_indexed(asset, "name") is True  # Index(...) in __table_args__
    assert index.is_indexed(asset, "latitude") is False
    assert index.is_indexed(sensor, "generic_asset_id") is True
    assert index.is_indexed(sensor, "unit") is False
    assert index.is_indexed(sensor, "no_such_column") is None
    assert index.column(sensor, "generic_asset_id").foreign_table == "generic_asset"


def test_typed_columns_and_mixin_columns(index):
    user = index.mapped_class("User", "typed_models")
    account = index.mapped_class("Account", "typed_models")
    assert index.is_indexed(user, "email") is True
    assert index.is_indexed(user, "nickname") is False
    assert index.is_indexed(account, "name") is True
    assert index.column(account, "created") is not None  # from the mixin


def test_lookup_table_heuristic(index):
    assert index.is_lookup_table(index.mapped_class("GenericAssetType"))
    assert not index.is_lookup_table(index.mapped_class("GenericAsset"))


def test_duplicate_class_names_need_the_module(index):
    assert index.mapped_class("Account") is None  # both fixtures define one
    assert index.mapped_class("Account", "flask_models").path.endswith("flask_models.py")


def test_prefilter():
    assert could_define_models("x = db.relationship('A')")
    assert not could_define_models("import pandas as pd\nframe = pd.DataFrame()\n")


MIGRATION = '''"""Add the sensor table."""
import sqlalchemy as sa
from alembic import op

revision = "4b6cebbdf473"
down_revision = None


def upgrade():
    op.create_table(
        "sensor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(80), index=True),
    )
'''

MODEL_IN_A_BRANCH = '''from typing import TYPE_CHECKING

try:
    from app.db import db
except ImportError:
    db = None
else:
    class Sensor(db.Model):
        id = db.Column(db.Integer, primary_key=True)
'''


def test_a_migration_mentioning_columns_is_not_parsed():
    project = ProjectIndex()
    assert could_define_models(MIGRATION)  # the text prefilter lets it through ...
    assert not project.update("versions/4b6c_sensor.py", MIGRATION)
    assert project.parsed == 0  # ... the ast outline does not
    assert not project.models.defines_models("versions/4b6c_sensor.py")


@pytest.mark.parametrize("text", [
    MODEL_IN_A_BRANCH,
    "from app import db\nAsset = GenericAsset\n",
    "from sqlalchemy.orm import declarative_base\nBase = declarative_base()\n",
    "Index('ix_sensor_name', Sensor.name)\nix = Index('ix_sensor_name', Sensor.name)\n",
])
def test_what_the_reader_reads_is_parsed(text):
    project = ProjectIndex()
    project.update("models.py", text + "# relationship( Column(\n")
    assert project.parsed == 1


def test_the_outline_test_never_hides_facts():
    """Every fixture and example text the reader finds facts in passes the `ast` test."""
    paths = [*FIXTURES.glob("*.py"), *(Path(__file__).parents[1] / "examples").rglob("*.py")]
    with_facts = 0
    for path in paths:
        source = SourceFile(path.read_text(), str(path))
        facts = read_models(str(path), source)
        if facts.classes or facts.aliases or facts.roots or facts.module_indexes:
            with_facts += 1
            assert source.outline is not None and may_hold_model_facts(source.outline), path
    assert with_facts >= 4


def test_update_reports_changes_and_removal():
    index = ModelIndex()
    text = "class A(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n"
    assert index.update_file("a.py", SourceFile(text, "a.py"))
    assert not index.update_file("a.py", SourceFile("\n" + text, "a.py"))  # moved only
    assert index.update_file("a.py", SourceFile(text + "    b = db.relationship('B')\n"))
    assert index.defines_models("a.py")
    assert index.remove_file("a.py")
    assert not index.defines_models("a.py")
    assert index.mapped_class("A") is None


BAD = {
    "half.py": "class Half(db.Model):\n    id = db.Column(db.Integer, primary_key=True\n"
    "    owner = db.relationship(\n",
    "missing.py": "class Lonely(db.Model):\n    ghost = db.relationship('NoSuchClass')\n",
    "circle.py": (
        "class A(db.Model):\n    b = db.relationship('B', backref='a')\n"
        "class B(db.Model):\n    a = db.relationship('A', backref='b')\n"
        "class C(D):\n    __tablename__ = 'c'\nclass D(C):\n    __tablename__ = 'd'\n"
    ),
    "syntax.py": "class Broken(db.Model)\n    id = db.Column(\n  )))\n",
    "weird.py": "x = relationship\nclass W(db.Model):\n    r = db.relationship(*args)\n"
    "    s = db.relationship(lazy=some_call())\n    __table_args__ = make_args()\n",
}


def test_bad_input_never_crashes():
    project = ProjectIndex()
    for path, text in BAD.items():
        project.update(path, text)
    models = project.models
    lonely = models.mapped_class("Lonely")
    ghost = models.relationship(lonely, "ghost")
    assert ghost.target == "NoSuchClass"
    assert models.is_collection(ghost) is None  # unknown, not a guess
    assert models.mapped_class("C") is None  # an inheritance cycle is not mapped
    weird = models.mapped_class("W")
    assert models.relationship(weird, "s").lazy == "unknown"
    assert models.is_indexed(weird, "nothing") is None
    assert models.relationship(models.mapped_class("A"), "b") is not None
    assert isinstance(models.relationship_names(), frozenset)


# -- the on-disk cache of facts ------------------------------------------------------------


def _index_fixtures(cache: Path) -> ProjectIndex:
    project = ProjectIndex(FIXTURES, cache_dir=cache)
    project.index_files(sorted(FIXTURES.glob("*.py")))
    return project


def _summary(models: ModelIndex) -> list[tuple]:
    """Every relationship of every class as the rules see it: target, loading, direction."""
    rows = []
    for facts in sorted(models.files(), key=lambda facts: facts.path):
        for cls in facts.classes.values():
            attributes = sorted(set(cls.relationships) | {
                rel.attribute for rel in models._backref_map().get(id(cls), {}).values()})
            for attribute in attributes:
                found = models.relationship(cls, attribute)
                target = models.target_of(found)
                rows.append((cls.name, attribute, found.lazy, models.is_collection(found),
                             target.path if target else None, str(found.range)))
    return rows


def test_second_index_of_an_unchanged_tree_parses_nothing(tmp_path):
    cold = _index_fixtures(tmp_path / "cache")
    warm = _index_fixtures(tmp_path / "cache")

    assert cold.parsed == 2
    assert warm.parsed == 0
    assert _summary(warm.models) == _summary(cold.models)
    assert (tmp_path / "cache" / ".gitignore").is_file()


def test_cached_facts_follow_the_content_not_the_path(tmp_path):
    text = (FIXTURES / "typed_models.py").read_text()
    first = ProjectIndex(tmp_path, cache_dir=tmp_path / "cache")
    first.update("a/typed.py", text)
    first.save_cache()
    second = ProjectIndex(tmp_path, cache_dir=tmp_path / "cache")

    second.update("b/renamed.py", text)
    second.update("b/renamed.py", text + "\nclass Extra(Base):\n    __tablename__ = 'x'\n")

    assert second.parsed == 1  # the edited text only
    assert second.models.mapped_class("Extra").path == "b/renamed.py"
    assert second.models.mapped_class("User").path == "b/renamed.py"


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: "{not json",
        lambda data: data.replace('"stamp":"', '"stamp":"0.0.0-old:'),
        lambda data: data.replace('"classes":[', '"classes":[42,', 1),
        lambda data: data.replace('"range":[', '"range":["x",', 1),
        lambda data: '{"format": 1, "stamp": 3, "entries": []}',
    ],
)
def test_a_corrupt_or_old_cache_is_ignored(tmp_path, damage):
    cache = tmp_path / "cache"
    reference = _summary(_index_fixtures(cache).models)
    store = cache / "model-index.json"
    store.write_text(damage(store.read_text()))

    again = _index_fixtures(cache)

    assert again.parsed >= 1
    assert _summary(again.models) == reference
    assert _index_fixtures(cache).parsed == 0  # rewritten whole


def test_an_unwritable_cache_folder_only_costs_the_cache(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    project = _index_fixtures(blocker / "cache")

    assert project.parsed == 2
    assert project.models.mapped_class("GenericAsset") is not None


# -- extend-model-modules ------------------------------------------------------------------


ALIASES = "from app.models.assets import GenericAsset\n\nAsset = GenericAsset\n"
SUBCLASS = (
    "from app.models.base import Resource\n\n\n"
    "class Battery(Resource):\n    def capacity(self):\n        return 1\n"
)
BASE = (
    "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n\n\n"
    "class Resource(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n"
)


def _write(root: Path, files: dict[str, str]) -> list[Path]:
    paths = []
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(path)
    return paths


def test_listed_modules_are_indexed_whatever_the_prefilter_says(tmp_path):
    paths = _write(tmp_path, {
        "app/models/assets.py": "from app.models.base import db\n\n\n"
        "class GenericAsset(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n",
        "app/models/aliases.py": ALIASES,
        "app/models/base.py": BASE,
        "app/extra/battery.py": SUBCLASS,
    })
    plain = ProjectIndex(tmp_path)
    plain.index_files(paths)
    listed = ProjectIndex(tmp_path, model_modules=["app.models.aliases", "app/extra"])
    listed.index_files(paths)

    assert plain.models.mapped_class("Battery") is None
    assert plain.models.mapped_class("Asset", "app.models.aliases") is None
    assert listed.models.mapped_class("Battery").path.endswith("battery.py")
    assert listed.models.mapped_class("Asset", "app.models.aliases").name == "GenericAsset"
    assert listed.is_model_module(str(tmp_path / "app/models/aliases.py"))


def test_a_module_listed_later_and_a_forced_update(tmp_path):
    paths = _write(tmp_path, {"app/models/base.py": BASE, "app/battery.py": SUBCLASS})
    project = ProjectIndex(tmp_path)
    project.index_files(paths)
    assert project.models.mapped_class("Battery") is None

    files = project.set_model_modules(["app.battery"])
    project.index_files(files)
    assert project.models.mapped_class("Battery") is not None

    other = ProjectIndex(tmp_path)
    other.update("app/models/base.py", BASE)
    assert other.update("lonely.py", SUBCLASS.replace("Battery", "Cell"), force=True)
    assert other.models.mapped_class("Cell") is not None


# -- two classes of one name ------------------------------------------------------------


TWINS = {
    "app/billing/models.py": (
        "from app.db import Base\nfrom sqlalchemy.orm import relationship\n\n\n"
        "class Account(Base):\n    __tablename__ = 'billing_account'\n"
        "    id = Column(Integer, primary_key=True)\n"
        "    invoices = relationship('Invoice', backref='account')\n\n\n"
        "class Invoice(Base):\n    __tablename__ = 'invoice'\n"
        "    id = Column(Integer, primary_key=True)\n"
        "    account_id = Column(Integer, ForeignKey('billing_account.id'))\n"
    ),
    "app/auth/models.py": (
        "from app.db import Base\nfrom sqlalchemy.orm import relationship\n\n\n"
        "class Account(Base):\n    __tablename__ = 'auth_account'\n"
        "    id = Column(Integer, primary_key=True)\n\n\n"
        "class Login(Base):\n    __tablename__ = 'login'\n"
        "    id = Column(Integer, primary_key=True)\n"
        "    account_id = Column(Integer, ForeignKey('auth_account.id'))\n"
        "    account = relationship('app.auth.models.Account', backref='logins')\n"
    ),
    "app/audit.py": (
        "from app.db import Base\nfrom app.auth.models import Account\n"
        "from app import billing\nfrom sqlalchemy.orm import relationship\n\n\n"
        "class Entry(Base):\n    __tablename__ = 'entry'\n"
        "    id = Column(Integer, primary_key=True)\n"
        "    account = relationship(Account, backref='entries')\n"
        "    billed = relationship(billing.models.Account)\n"
        "    ambiguous = relationship('Account')\n"
    ),
    "app/db.py": "from sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n",
}


@pytest.fixture(scope="module")
def twins() -> ModelIndex:
    return index_of(TWINS)


def index_of(texts: dict[str, str]) -> ModelIndex:
    project = ProjectIndex()
    for path, text in texts.items():
        project.update(path, text)
    return project.models


def _rel(models: ModelIndex, path: str, cls: str, attribute: str):
    owner = next(f for f in models.files() if f.path == path).classes[cls]
    return models.relationship(owner, attribute)


@pytest.mark.parametrize(
    ("path", "cls", "attribute", "target_path"),
    [
        ("app/billing/models.py", "Invoice", "account", "app/billing/models.py"),  # backref
        ("app/auth/models.py", "Login", "account", "app/auth/models.py"),  # qualified string
        ("app/audit.py", "Entry", "account", "app/auth/models.py"),  # imported class
        ("app/audit.py", "Entry", "billed", "app/billing/models.py"),  # module attribute
        ("app/auth/models.py", "Account", "logins", "app/auth/models.py"),
        ("app/auth/models.py", "Account", "entries", "app/audit.py"),
    ],
)
def test_targets_and_backrefs_land_on_the_right_twin(twins, path, cls, attribute, target_path):
    found = _rel(twins, path, cls, attribute)

    assert found is not None
    assert twins.target_of(found).path == target_path


def test_backrefs_do_not_leak_to_the_twin_and_ambiguity_is_unknown(twins):
    billing = _rel(twins, "app/billing/models.py", "Account", "logins")
    ambiguous = _rel(twins, "app/audit.py", "Entry", "ambiguous")

    assert billing is None
    assert _rel(twins, "app/billing/models.py", "Account", "entries") is None
    assert twins.target_of(ambiguous) is None
    assert twins.is_collection(ambiguous) is None


def test_twins_in_separate_registries_resolve_by_registry():
    texts = {
        "one/models.py": "from sqlalchemy.orm import declarative_base\nBase = declarative_base()\n"
        "class Tag(Base):\n    __tablename__ = 'tag'\n    id = Column(Integer, primary_key=True)\n"
        "class Post(Base):\n    __tablename__ = 'post'\n    tags = relationship('Tag')\n",
        "two/models.py": "from sqlalchemy.orm import declarative_base\nBase = declarative_base()\n"
        "class Tag(Base):\n    __tablename__ = 'tag'\n"
        "    id = Column(Integer, primary_key=True)\n",
        "one/extra.py": "from one.models import Base\n"
        "class Note(Base):\n    __tablename__ = 'note'\n    tags = relationship('Tag')\n",
    }
    models = index_of(texts)

    assert models.target_of(_rel(models, "one/extra.py", "Note", "tags")).path == \
        "one/models.py"


def test_unsaved_facts_of_replaced_texts_are_not_kept(tmp_path):
    project = ProjectIndex(tmp_path, cache_dir=tmp_path / "cache")
    text = "class A(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n"
    for number in range(20):  # typing in an open model file
        project.update("a.py", text + f"    c{number} = db.Column(db.Integer)\n")
    project.save_cache()

    stored = json.loads((tmp_path / "cache" / "model-index.json").read_text())

    assert len(stored["entries"]) == 1
    assert project.models.column(project.models.mapped_class("A"), "c19") is not None


def test_a_class_extending_its_namesake_from_another_module():
    models = index_of({
        "lib/models.py": "from lib.db import db\nclass User(db.Model):\n"
        "    id = db.Column(db.Integer, primary_key=True)\n"
        "    account = db.relationship('Account')\n",
        "app/models.py": "from lib import models\nfrom lib.models import User as BaseUser\n"
        "class User(models.User):\n    nickname = db.Column(db.String)\n"
        "class Admin(BaseUser):\n    level = db.Column(db.Integer)\n",
    })
    app = next(f for f in models.files() if f.path == "app/models.py")

    for name in ("User", "Admin"):
        cls = app.classes[name]
        assert models.is_mapped(cls)
        assert models.relationship(cls, "account") is not None
        assert models.column(cls, "id").primary_key


SENSORS = '''from app import db


class Asset(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    sensors = db.relationship("Sensor", backref=db.backref("asset", lazy="select"))


class Sensor(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    asset_id = db.Column(db.Integer, db.ForeignKey("asset.id"))


class Account(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80))
    assets = db.relationship("Asset")
'''


def test_changed_words_name_what_a_model_edit_can_affect():
    project = ProjectIndex()
    project.update("models.py", SENSORS)
    project.models.take_changed_words()

    project.update("models.py", SENSORS.replace('lazy="select"', 'lazy="selectin"'))
    words = project.models.take_changed_words()

    assert words == {"sensors", "asset"}  # the relationship and the backref it creates

    project.update("models.py", SENSORS.replace("class Asset(db.Model)", "class Asset(Base)"))
    words = project.models.take_changed_words()
    assert {"Asset", "id", "sensors", "asset", "assets"} <= words  # assets points at Asset
    assert not {"Sensor", "asset_id", "Account", "name"} & words  # untouched classes
    project.update("models.py", SENSORS)
    project.models.take_changed_words()
    assert not project.update("models.py", "\n" + SENSORS)
    assert project.models.take_changed_words() == set()  # moved down a line: nothing changed
    project.remove("models.py")
    assert {"Sensor", "asset_id", "Account", "name"} <= project.models.take_changed_words()


BOOLEAN_COLUMNS = '''
from typing import Optional

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Boolean, Column, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

db = SQLAlchemy()


class Base(DeclarativeBase):
    pass


class Flag(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    hidden = db.Column(db.Boolean, default=False)
    banned = db.Column(db.Boolean(), nullable=False)
    name = db.Column(db.String(80))


class Switch(Base):
    __tablename__ = "switch"
    id: Mapped[int] = mapped_column(primary_key=True)
    on: Mapped[bool]
    maybe: Mapped[Optional[bool]]
    enabled: Mapped[bool] = mapped_column(default=True)
    legacy = Column(Boolean)
    checked = Column(sa.Boolean(create_constraint=True))
    owner_id: Mapped[int] = mapped_column(ForeignKey("flag.id"))
    label: Mapped[str] = mapped_column(String(20))
    code: Mapped[bool] = mapped_column(String(1))
'''


@pytest.mark.parametrize("cached", [False, True])
def test_boolean_columns_are_known_in_every_spelling(tmp_path, cached):
    cache = tmp_path / "cache" if cached else None
    if cached:
        first = ProjectIndex(tmp_path, cache_dir=cache)
        first.update("models.py", BOOLEAN_COLUMNS)
        first.save_cache()
    project = ProjectIndex(tmp_path, cache_dir=cache)

    project.update("models.py", BOOLEAN_COLUMNS)

    assert project.parsed == (0 if cached else 1)
    models = project.models
    booleans = {(cls, name) for cls in ("Flag", "Switch")
                for name, column in models.mapped_class(cls).columns.items() if column.boolean}
    assert booleans == {("Flag", "hidden"), ("Flag", "banned"), ("Switch", "on"),
                        ("Switch", "maybe"), ("Switch", "enabled"), ("Switch", "legacy"),
                        ("Switch", "checked")}


@pytest.mark.parametrize(("path", "expected"), [
    ("/work/app/tests/test_api.py", True),
    ("/work/app/tests/helpers.py", True),
    ("/work/app/src/app/test/fixtures.py", True),
    ("/work/app/app/conftest.py", True),
    ("/work/app/app/models_test.py", True),
    ("/work/app/app/services.py", False),
    ("/work/app/app/testing.py", False),
    ("/home/test/app/services.py", False),
])
def test_test_modules_are_told_by_their_place_in_the_project(path, expected):
    root = Path("/home/test/app") if path.startswith("/home") else Path("/work/app")

    assert ProjectIndex(root).is_test_module(path) is expected
