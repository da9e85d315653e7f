"""FMP50x beyond their examples: schemas read from other modules of the project, payloads."""

from __future__ import annotations

import textwrap
from pathlib import Path

from fmperf_ls.analysis.project import ProjectIndex
from fmperf_ls.analysis.source import SourceFile
from fmperf_ls.engine import Engine, check_text
from fmperf_ls.rules import all_rules

MODELS = """
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class AccountRole(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String)


class Account(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    account_roles = db.relationship(
        "AccountRole", secondary="roles_accounts", backref=db.backref("accounts", lazy="dynamic")
    )
"""

SCHEMAS = """
from flask_marshmallow import Marshmallow
from marshmallow import fields

from app.models import Account

ma = Marshmallow()


class AccountRoleSchema(ma.SQLAlchemySchema):
    id = fields.Int()
    name = fields.Str()
    accounts = fields.Nested("AccountSchema", many=True)


class AccountSchema(ma.SQLAlchemySchema):
    class Meta:
        model = Account

    id = ma.auto_field()
    account_roles = fields.Nested("AccountRoleSchema", exclude=("accounts",), many=True)
"""

PACKAGE = "from app.schemas.account import AccountSchema\n"

API = """
from app.models import Account, db
from app.schemas import AccountSchema

accounts_schema = AccountSchema(many=True)


def list_accounts():
    query = db.session.query(Account).filter(Account.id > 0)
    return accounts_schema.dump(query.all(), many=True)
"""


def project(tmp_path: Path) -> tuple[ProjectIndex, Path]:
    files = {"app/__init__.py": "", "app/models.py": MODELS,
             "app/schemas/__init__.py": PACKAGE, "app/schemas/account.py": SCHEMAS,
             "app/api.py": API}
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    index = ProjectIndex(tmp_path)
    index.index_files(tmp_path.rglob("*.py"))
    return index, tmp_path / "app/api.py"


def test_dump_with_a_schema_of_another_module_names_the_lazy_relationship(tmp_path):
    index, api = project(tmp_path)
    engine = Engine(project=index, rules=[all_rules()["FMP503"]])

    found = engine.check(SourceFile(api.read_text(), str(api))).findings

    assert [str(finding.range) for finding in found] == ["9:11-9:55"]
    assert "Account.account_roles" in found[0].message
    assert "AccountRole.accounts" not in found[0].message  # excluded in the nested field
    assert found[0].fix is not None
    assert "selectinload(Account.account_roles)" in found[0].fix.edits[0].new_text + "".join(
        edit.new_text for edit in found[0].fix.edits)


def test_without_a_project_root_imported_schemas_are_not_guessed(tmp_path):
    report = check_text(textwrap.dedent(API), rules=[all_rules()["FMP503"]])

    assert report.findings == [] and report.failures == []


def test_rq_payload_names_what_is_pickled():
    report = check_text(textwrap.dedent("""
        import pandas as pd
        from rq import Queue

        queue = Queue()


        def later(sensor_id):
            prices = pd.Series([1.0, 2.0])
            queue.enqueue_in(60, fit, sensor_id, prices=prices, job_id="x")
            queue.enqueue_at(None, fit, prices)
        """).lstrip("\n"), rules=[all_rules()["FMP502"]])

    assert [str(finding.range) for finding in report.findings] == ["9:48-9:54", "10:32-10:38"]
    assert "a Series" in report.findings[0].message
