"""HTTP endpoints of the service."""

from flask import Blueprint

from .models import Asset

assets_api = Blueprint("assets", __name__)


@assets_api.route("/assets")
def list_assets():
    assets = Asset.query.filter(Asset.account_id.isnot(None)).all()
    return {"assets": [{"id": asset.id, "name": asset.name} for asset in assets]}
