"""Front-end libraries from npm (package.json), served by the server itself.

Meeting rooms are often offline, so nothing is loaded from a CDN. Only the
files named here are reachable; `scripts/setup` runs `npm ci` to install them.
"""
from __future__ import annotations

from flask import Blueprint, abort, send_from_directory

from server.paths import ROOT

bp = Blueprint("vendor", __name__, url_prefix="/vendor")

NODE_MODULES = ROOT / "node_modules"
FILES = {
    "socket.io.esm.min.js": "socket.io-client/dist/socket.io.esm.min.js",
    "socket.io.esm.min.js.map": "socket.io-client/dist/socket.io.esm.min.js.map",
}


@bp.get("/<name>")
def vendor_file(name: str):
    relative = FILES.get(name)
    if relative is None or not (NODE_MODULES / relative).is_file():
        abort(404)
    return send_from_directory(NODE_MODULES, relative, max_age=86400)
