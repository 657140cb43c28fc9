"""The API blueprint, apart from the package: the resource modules add their views to it,
and ``server.api.init_app`` imports them, so no module imports the package back."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
