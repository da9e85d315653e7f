"""Assets, their sensors and measured beliefs, in Flask-SQLAlchemy style."""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import backref

db = SQLAlchemy()


class AssetType(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), unique=True, nullable=False)


class Account(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(100), nullable=False)


class Asset(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    latitude = db.Column(db.Float)
    longitude = db.Column(db.Float)
    asset_type_id = db.Column(db.Integer, db.ForeignKey("asset_type.id"), nullable=False)
    account_id = db.Column(db.Integer, db.ForeignKey("account.id"), index=True)
    parent_asset_id = db.Column(db.Integer, db.ForeignKey("asset.id"))

    asset_type = db.relationship("AssetType")
    owner = db.relationship("Account", backref=backref("assets", lazy=True))
    parent_asset = db.relationship(
        "Asset", remote_side=[id], backref=backref("child_assets", lazy="select")
    )


class Sensor(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(120), nullable=False)
    unit = db.Column(db.String(20), nullable=False)
    event_resolution_minutes = db.Column(db.Integer, nullable=False, default=15)
    asset_id = db.Column(db.Integer, db.ForeignKey("asset.id"), nullable=False, index=True)

    asset = db.relationship("Asset", backref=backref("sensors", lazy="select"))


class TimedBelief(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    sensor_id = db.Column(db.Integer, db.ForeignKey("sensor.id"), nullable=False, index=True)
    event_start = db.Column(db.DateTime(timezone=True), nullable=False, index=True)
    belief_horizon_minutes = db.Column(db.Integer, nullable=False)
    source_name = db.Column(db.String(80), nullable=False)
    event_value = db.Column(db.Float, nullable=False)

    sensor = db.relationship("Sensor", backref=backref("beliefs", lazy="dynamic"))
