"""Read paths of the API: the kind of code where N+1 queries hide."""

from sqlalchemy import select

from .models import Asset, Sensor, TimedBelief, db


def sensor_names_by_asset() -> dict[str, list[str]]:
    """One query for the assets, then one more per asset for its sensors."""
    result = {}
    for asset in Asset.query.filter(Asset.latitude.isnot(None)).all():
        result[asset.name] = [sensor.name for sensor in asset.sensors]
    return result


def asset_overview(account_id: int) -> list[dict]:
    assets = db.session.scalars(select(Asset).where(Asset.account_id == account_id)).all()
    return [
        {"name": asset.name, "type": asset.asset_type.name, "sensors": len(asset.sensors)}
        for asset in assets
    ]


def count_descendants(asset: Asset) -> int:
    """Walks the asset tree one lazy load per level."""
    return sum(1 + count_descendants(child) for child in asset.child_assets)


def describe_sensor(sensor: Sensor) -> str:
    return f"{sensor.name} on {sensor.asset.name}"


def describe_all(sensor_ids: list[int]) -> list[str]:
    descriptions = []
    for sensor_id in sensor_ids:
        sensor = db.session.get(Sensor, sensor_id)
        descriptions.append(describe_sensor(sensor))
    return descriptions


def latest_beliefs(source_name: str) -> list[TimedBelief]:
    return (
        TimedBelief.query.filter(TimedBelief.source_name == source_name)
        .order_by(TimedBelief.event_start.desc())
        .all()
    )


def sensor_labels(asset: Asset) -> str:
    return ", ".join(f"{sensor.name} ({sensor.unit})" for sensor in asset.sensors)


def label_report() -> dict[int, str]:
    return {asset.id: sensor_labels(asset) for asset in Asset.query.all()}
