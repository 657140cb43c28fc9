"""Languages: how the locale is chosen, catalog compilation, and catalog coverage."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from server import i18n
from server.paths import ROOT
from server.extensions import db
from tests.factories import make_user

VI_PO = i18n.CATALOGS / "vi" / "LC_MESSAGES" / "messages.po"
# Pages whose every string must be in Vietnamese (the shared frame and this part's pages).
COVERED_TEMPLATES = ["base.html", "error.html", "accounts/login.html", "system/index.html"]
COVERED_MODULES = ["server/services/accounts/accounts.py", "server/auth.py", "server/api/auth.py",
                   "server/web/accounts.py"]


def vi_catalog():
    with VI_PO.open("rb") as po:
        return read_po(po, locale="vi")


def login_title(client, path="/login", **headers) -> str:
    html = client.get(path, headers=headers).get_data(as_text=True)
    return re.search(r"<h1>(.*?)</h1>", html).group(1)


def test_vietnamese_by_default(client):
    response = client.get("/login")
    assert '<html lang="vi">' in response.get_data(as_text=True)
    assert login_title(client) == "Đăng nhập"


@pytest.mark.parametrize("accept", ["en", "en-US,en;q=0.9", "fr, en;q=0.5"])
def test_english_from_the_browser(client, accept):
    assert login_title(client, **{"Accept-Language": accept}) == "Log in"


def test_unknown_browser_language_falls_back_to_vietnamese(client):
    assert login_title(client, **{"Accept-Language": "de, fr;q=0.8"}) == "Đăng nhập"


def test_lang_parameter_wins_and_is_remembered_for_the_session(client):
    assert login_title(client, "/login?lang=en", **{"Accept-Language": "vi"}) == "Log in"
    assert login_title(client, **{"Accept-Language": "vi"}) == "Log in"
    assert login_title(client, "/login?lang=vi", **{"Accept-Language": "en"}) == "Đăng nhập"
    assert login_title(client, "/login?lang=xx") == "Đăng nhập"


def test_a_users_saved_language_beats_the_browser_and_lang_saves_it(app, client, auth):
    user = make_user(locale="en")
    auth.login(user)
    page = client.get("/no-such-page", headers={"Accept": "text/html", "Accept-Language": "vi"})
    assert "Back to the start page" in page.get_data(as_text=True)
    page = client.get("/no-such-page?lang=vi", headers={"Accept": "text/html"})
    assert "Quay lại trang chủ" in page.get_data(as_text=True)
    db.session.refresh(user)
    assert user.locale == "vi"


def test_api_errors_follow_the_language(app, client):
    make_user(username="an")
    body = {"username": "an", "password": "wrong password"}
    vi = client.post("/api/v1/auth/login", json=body).get_json()["error"]["message"]
    en = client.post("/api/v1/auth/login", json=body, headers={"Accept-Language": "en"})
    assert vi == "Sai tên đăng nhập hoặc mật khẩu."
    assert en.get_json()["error"]["message"] == "Wrong username or password."


# -- catalogs ----------------------------------------------------------------

def test_catalogs_compile_when_missing_or_stale(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(i18n.CATALOGS, source, ignore=shutil.ignore_patterns("*.mo", "*.tmp"))
    target = tmp_path / "out"
    assert i18n.compile_catalogs(source, target) == 2
    mo = target / "vi" / "LC_MESSAGES" / "messages.mo"
    assert "Đăng nhập".encode() in mo.read_bytes()
    assert i18n.compile_catalogs(source, target) == 0  # up to date
    po = source / "vi" / "LC_MESSAGES" / "messages.po"
    os.utime(po, (mo.stat().st_mtime + 10, mo.stat().st_mtime + 10))
    assert i18n.compile_catalogs(source, target) == 1
    assert not list(target.rglob("*.tmp"))


def test_unwritable_catalog_directory_falls_back_to_the_data_directory(app, tmp_path, monkeypatch):
    source = tmp_path / "readonly"
    shutil.copytree(i18n.CATALOGS, source, ignore=shutil.ignore_patterns("*.mo", "*.tmp"))
    # A directory where the .mo should go makes writing it fail, even for root.
    blocker = source / "en" / "LC_MESSAGES" / "messages.mo"
    blocker.mkdir()
    os.utime(blocker, (0, 0))
    monkeypatch.setattr(i18n, "CATALOGS", source)
    directory = i18n.prepare_catalogs(app)
    assert Path(directory) == Path(app.config["DATA_DIR"]) / "translations"
    assert (Path(directory) / "en" / "LC_MESSAGES" / "messages.mo").is_file()
    assert (Path(directory) / "vi" / "LC_MESSAGES" / "messages.mo").is_file()


def _strings_in(path: Path, method: str) -> set[str]:
    options = {"extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}
    return {message if isinstance(message, str) else message[0]
            for _line, message, _comments, _context in extract_from_file(method, str(path),
                                                                         options=options)}


@pytest.mark.parametrize("path, method", [
    *[(ROOT / "templates" / name, "jinja2") for name in COVERED_TEMPLATES],
    *[(ROOT / name, "python") for name in COVERED_MODULES],
])
def test_vietnamese_catalog_covers_the_shared_and_account_pages(path, method):
    translated = {m.id: m.string for m in vi_catalog() if m.id}
    strings = _strings_in(path, method)
    assert strings, f"no translatable strings found in {path}"
    missing = sorted(s for s in strings if not translated.get(s))
    assert not missing, f"untranslated in vi: {missing}"


def test_translations_keep_their_placeholders():
    for message in vi_catalog():
        if message.id and message.string:
            assert sorted(re.findall(r"%\(\w+\)\w", message.id)) == \
                sorted(re.findall(r"%\(\w+\)\w", message.string)), message.id


def test_account_pages_are_in_real_vietnamese():
    """Translations with diacritics, not ASCII stand-ins."""
    covered = set()
    for name in COVERED_TEMPLATES:
        covered |= _strings_in(ROOT / "templates" / name, "jinja2")
    for name in COVERED_MODULES:
        covered |= _strings_in(ROOT / name, "python")
    translated = {m.id: m.string for m in vi_catalog() if m.id in covered}
    plain = [s for s in translated.values() if not re.search(r"[^\x00-\x7f]", s)]
    assert len(translated) >= 20 and not plain, plain


def test_every_string_in_the_sources_has_a_vietnamese_translation(tmp_path):
    """A page string added without its Vietnamese translation fails here
    (scripts/update-translations merges new strings; then translate them)."""
    import subprocess
    import sys

    from babel.messages.pofile import read_po

    from tests.live import ROOT

    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "--mapping-file",
                    "babel.cfg", "--keywords", "_l", "--keywords", "lazy_gettext", "--no-location",
                    "--output-file", str(pot), "."], cwd=ROOT, check=True, capture_output=True)
    with open(pot, "rb") as source:
        wanted = {m.id for m in read_po(source) if m.id}
    with open(ROOT / "server/translations/vi/LC_MESSAGES/messages.po", "rb") as catalog_file:
        translated = {m.id for m in read_po(catalog_file) if m.id and m.string}
    missing = sorted(str(m) for m in wanted - translated)
    assert missing == [], f"untranslated in vi: {missing[:20]}"
