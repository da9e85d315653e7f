"""API serialization with marshmallow."""

from marshmallow import Schema, fields

from .models import Asset


class SensorSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    unit = fields.Str()


class AssetSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    sensors = fields.Nested(SensorSchema, many=True)


def assets_response() -> list[dict]:
    assets = Asset.query.all()
    return AssetSchema(many=True).dump(assets)


def sensor_response(sensor) -> dict:
    return SensorSchema().dump(sensor)
