"""Print every asset's sensors: one query for the assets, then one per asset (N+1)."""
from models import Asset, app


def print_sensors():
    for asset in Asset.query.all():
        print(asset.name, asset.sensors)


if __name__ == "__main__":
    with app.app_context():
        print_sensors()
