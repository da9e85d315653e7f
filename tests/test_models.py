"""The model index: what it reads from real-looking model modules, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from fmperf_ls.analysis.models import ModelIndex, could_define_models
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
    assert isinstance(models.relationship_names(), set)
