"""Server-rendered pages for secretaries, chairs and the projector."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from server.web import (
        accounts, archive, comments, consultations, control, documents, drafts, home, meetings,
        minutes, system, tablet, vendor,
    )

    for module in (accounts, archive, comments, consultations, control, documents, drafts, home,
                   meetings, minutes, system, tablet, vendor):
        app.register_blueprint(module.bp)
