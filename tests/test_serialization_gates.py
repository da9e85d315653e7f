"""FMP501-FMP503 gates: files they rule out, and shapes beyond the examples they let through."""

from __future__ import annotations

import textwrap
from pathlib import Path

from gate_helpers import findings, gate

from fmperf_ls.analysis.project import ProjectIndex
from fmperf_ls.engine import index_texts

ALIASED_MODULE = """
from marshmallow import ValidationError

from app.schemas import assets as asset_schemas


def list_assets(assets):
    try:
        return asset_schemas.AssetSchema(many=True).dump(assets)
    except ValidationError:
        return []
"""


def test_schema_gate_rules_out_module_instances_and_arguments_that_vary():
    assert not gate("FMP501", """
        from marshmallow import Schema, fields


        class AssetSchema(Schema):
            id = fields.Int()


        asset_schema = AssetSchema()


        def dump(asset, only):
            return AssetSchema(only=only).dump(asset)
        """)


def test_schema_gate_rules_out_schemas_handed_over_or_built_in_commands():
    """Built for someone else (a spec, a registry), or in a command that runs once."""
    assert not gate("FMP501", """
        import click
        from marshmallow import Schema, fields


        class AssetSchema(Schema):
            id = fields.Int()


        def register(spec):
            spec.components.schema("Asset", schema=AssetSchema())
            handlers = [AssetSchema(many=True)]
            return handlers


        @click.command("show-asset")
        def show(asset):
            print(AssetSchema().dump(asset))
        """)


def test_schema_gate_rules_out_classes_of_the_file_that_are_no_schemas():
    """A field subclass built per call is no schema, whatever its bases."""
    assert not gate("FMP501", """
        from marshmallow import Schema, fields


        class SensorIdField(fields.Int):
            def _deserialize(self, value, attr, data, **kwargs):
                return int(value)


        def sensor_id(value):
            return SensorIdField().deserialize(value)
        """)


def test_schema_gate_lets_through_a_schema_built_on_another_schema_of_the_file():
    code = """
        from marshmallow import Schema, fields


        class BaseAssetSchema(Schema):
            id = fields.Int()


        class AssetSchema(BaseAssetSchema):
            name = fields.Str()


        def dump(asset):
            return AssetSchema().dump(asset)
        """
    assert gate("FMP501", code)
    assert [finding.code for finding in findings("FMP501", code)] == ["FMP501"]


def test_schema_gate_needs_a_loop_for_a_schema_imported_in_the_function():
    """An import in the body (against an import cycle) leaves no module instance to use."""
    once = """
        from marshmallow import ValidationError


        def validate(data):
            from app.schemas.assets import AssetSchema

            return AssetSchema().validate(data)
        """
    per_item = """
        from marshmallow import ValidationError


        def validate_all(items):
            from app.schemas.assets import AssetSchema

            return [AssetSchema().validate(item) for item in items]
        """
    assert not gate("FMP501", once)
    assert gate("FMP501", per_item)
    assert [finding.code for finding in findings("FMP501", per_item)] == ["FMP501"]


def test_schema_gate_lets_through_an_instance_kept_in_a_variable_and_used():
    code = """
        from marshmallow import Schema, fields


        class AssetSchema(Schema):
            id = fields.Int()


        def dump(asset):
            schema = AssetSchema()
            return schema.dump(asset)
        """
    assert gate("FMP501", code)
    assert [finding.code for finding in findings("FMP501", code)] == ["FMP501"]


def test_schema_gate_judges_a_lambda_by_itself_not_the_command_around_it():
    code = """
        import click
        from marshmallow import Schema, fields


        class AssetSchema(Schema):
            id = fields.Int()


        @click.command("show-assets")
        def show(assets):
            for asset in assets:
                print((lambda: AssetSchema().dump(asset))())
        """
    assert gate("FMP501", code)
    assert [finding.code for finding in findings("FMP501", code)] == ["FMP501"]


def test_schema_gate_lets_through_a_schema_of_an_aliased_schemas_module():
    assert gate("FMP501", ALIASED_MODULE)
    assert len(findings("FMP501", ALIASED_MODULE)) == 1


FRAME_TO_QUEUE = """
import pandas as pd


def schedule(jobs_queue, path, when):
    frame = pd.read_csv(path)
    jobs_queue.enqueue_at(when, compute, frame)
"""


def test_payload_gate_rules_out_other_enqueue_methods_and_empty_payloads():
    assert not gate("FMP502", """
        import pandas as pd


        def schedule(self, path, queue):
            frame = pd.read_csv(path)
            self.tasks.enqueue(compute, frame)
            queue.enqueue(compute)
        """)


def test_payload_gate_lets_through_a_queue_named_receiver_without_an_rq_import():
    assert gate("FMP502", FRAME_TO_QUEUE)
    assert len(findings("FMP502", FRAME_TO_QUEUE)) == 1


MODELS = """
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Account(db.Model):
    id = db.Column(db.Integer, primary_key=True)


class Asset(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    account_id = db.Column(db.Integer, db.ForeignKey("account.id"))
    owner = db.relationship("Account")
"""

SCHEMAS = """
from marshmallow import Schema, fields


class AssetSchema(Schema):
    id = fields.Int()
    owner_name = fields.Str(attribute="owner.name")
"""

API = """
from app import schemas as out
from app.models import Asset


def list_assets():
    return out.AssetSchema(many=True).dump(Asset.query.all())
"""


def test_dump_gate_rules_out_files_of_a_project_without_relationships():
    assert not gate("FMP503", API, index_texts({"app/models.py": "x = 1\n"}))


def test_dump_gate_rules_out_dumps_through_attributes():
    assert not gate("FMP503", """
        from app.schemas import AssetSchema


        class View:
            schema = AssetSchema(many=True)

            def get(self, assets):
                return self.schema.dump(assets)
        """, index_texts({"app/models.py": textwrap.dedent(MODELS)}))


def test_dump_gate_lets_through_a_schema_of_an_aliased_module(tmp_path: Path):
    files = {"app/__init__.py": "", "app/models.py": MODELS, "app/schemas.py": SCHEMAS,
             "app/api.py": API}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip("\n"))
    index = ProjectIndex(tmp_path)
    index.index_files(tmp_path.rglob("*.py"))
    api = str(tmp_path / "app/api.py")

    assert gate("FMP503", API, index, api)
    assert len(findings("FMP503", API, index, api)) == 1


def test_dump_gate_rules_out_one_object_dumped_outside_a_loop():
    assert not gate("FMP503", """
        from marshmallow import Schema, fields


        class AssetSchema(Schema):
            owner_name = fields.Str(attribute="owner.name")


        def show(asset_id):
            return AssetSchema().dump(Asset.query.get(asset_id))
        """, index_texts({"app/models.py": textwrap.dedent(MODELS)}))
