"""The delegate's tablet app (a PWA in tablet_client/), served at /tablet/.

The app is static: it authenticates every request itself with its device
token. The service worker is served from /tablet/ with no-cache, so a new
release reaches tablets at their next visit, and its scope is /tablet/.
"""
from __future__ import annotations

from flask import Blueprint, abort, send_from_directory

from server.paths import ROOT

bp = Blueprint("tablet", __name__, url_prefix="/tablet")

CLIENT = ROOT / "tablet_client"
NO_CACHE = "no-cache"
TYPES = {".webmanifest": "application/manifest+json", ".js": "text/javascript"}
SERVED = {".html", ".js", ".css", ".png", ".svg", ".webmanifest"}  # not the icon script


def _send(path: str):
    target = (CLIENT / path).resolve()
    inside = CLIENT.resolve() in target.parents
    if not inside or not target.is_file() or target.suffix not in SERVED:
        abort(404)
    mimetype = TYPES.get(target.suffix)
    response = send_from_directory(CLIENT, path, mimetype=mimetype, max_age=0)
    # Revalidate every time: the service worker keeps the offline copy, not the HTTP cache.
    response.headers["Cache-Control"] = NO_CACHE
    return response


@bp.get("/")
def index():
    return _send("index.html")


@bp.get("/service-worker.js")
def service_worker():
    response = _send("service-worker.js")
    response.headers["Service-Worker-Allowed"] = "/tablet/"
    return response


@bp.get("/<path:path>")
def client_file(path: str):
    return _send(path)
