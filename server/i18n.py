"""Languages: Vietnamese and English, chosen by the user, else by the browser.

The catalogs (``server/translations/<lang>/LC_MESSAGES/messages.po``) are
committed; the compiled ``.mo`` files are not, so they are compiled when the
app starts, whenever one is missing or older than its ``.po``.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, has_request_context, request, session
from flask_login import current_user

from server.extensions import babel, db
from server.sentences import localized

log = logging.getLogger(__name__)
CATALOGS = Path(__file__).parent / "translations"


def select_locale() -> str:
    """?lang=, then the user's saved language, the session, the browser, else vi."""
    languages = current_app.config["LANGUAGES"]
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    chosen = request.args.get("lang")
    if chosen in languages:
        session["lang"] = chosen
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages) or default


def _remember_chosen_language() -> None:
    """A logged-in user who picks a language with ?lang= keeps it on every device.

    Done before the view runs, in a transaction of its own, so that it never
    commits a view's half-made changes.
    """
    chosen = request.args.get("lang")
    if chosen not in current_app.config["LANGUAGES"] or not current_user.is_authenticated:
        return
    user = current_user._get_current_object()
    if user.locale != chosen:
        user.locale = chosen
        db.session.commit()


def compile_catalogs(source: Path, target: Path) -> int:
    """Compile every ``.po`` under source into a ``.mo`` under target when stale.

    Returns how many were written. Writes go through a temporary file and a
    rename, so workers starting together never read a half-written catalog.
    """
    written = 0
    for po_path in sorted(source.glob("*/LC_MESSAGES/*.po")):
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
        try:
            with os.fdopen(fd, "wb") as mo_file:
                write_mo(mo_file, catalog)
            os.replace(tmp_name, mo_path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        written += 1
    return written


def prepare_catalogs(app: Flask) -> str:
    """Compile the catalogs next to the .po files, or into the data directory
    when the code is installed read-only; returns the directory to load."""
    try:
        compile_catalogs(CATALOGS, CATALOGS)
        return str(CATALOGS)
    except OSError as exc:
        fallback = Path(app.config["DATA_DIR"]) / "translations"
        log.info("translations directory not writable (%s); compiling into %s", exc, fallback)
        compile_catalogs(CATALOGS, fallback)
        return str(fallback)


def init_app(app: Flask) -> None:
    if "BABEL_TRANSLATION_DIRECTORIES" not in app.config:
        app.config["BABEL_TRANSLATION_DIRECTORIES"] = prepare_catalogs(app)
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(_remember_chosen_language)
    app.add_template_filter(localized, "localized")

    @app.context_processor
    def _languages():
        from flask_babel import get_locale

        return {"languages": app.config["LANGUAGES"], "current_locale": str(get_locale())}

