"""Sentences the server says to a person: English as a ``str``, translated on a page.

A leaf module (Flask-Babel is imported when a page translates), so that services and the PDF
code can say something without depending on the web layer.
"""
from __future__ import annotations


class Sentence(str):
    """A sentence for a person, in English where it is a ``str`` (the command line, JSON, the
    log) and translated where a page shows it (``|localized`` in a template).

    ``Sentence("revoked on %(when)s", when=...)``: the msgid is collected for the catalogs
    (``--keywords Sentence`` in scripts/update-translations); its parameters stay data, and
    those that are Sentences themselves are translated too."""

    msgid: str
    params: dict

    def __new__(cls, msgid: str, **params):
        english = msgid % params if params else msgid
        sentence = super().__new__(cls, english)
        sentence.msgid, sentence.params = msgid, params
        return sentence

    def localized(self) -> str:
        from flask_babel import gettext

        params = {name: localized(value) for name, value in self.params.items()}
        return gettext(self.msgid, **params) if params else gettext(self.msgid)


def localized(text) -> str:
    """``text`` in the page's language when it is a Sentence; anything else as it is."""
    return text.localized() if isinstance(text, Sentence) else text
