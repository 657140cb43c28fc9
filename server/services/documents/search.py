"""Search the meeting's documents, and find words in one document (the tablet's "find").

Words are matched without diacritics ("ngan sach" finds "ngân sách"), on every page's text:
the file's own text layer, or for a scanned page the text its OCR gave. The rules of
``access`` hold: a document the actor may not read is not searched, and a confidential
document is not searched for a participant (its text never reaches them, not even as a
snippet or the fact that a word is on page 3).
"""
from __future__ import annotations

import re

from server.errors import InvalidInput, NotFound
from server.services.access import Permission, get_meeting
from server.services.actors import Actor
from server.services.documents.access import visible_documents
from server.services.folding import fold, snippet, terms_of

MAX_HITS = 100


def search_documents(actor: Actor, meeting_id: int, q: str,
                     document_id: int | None = None) -> dict:
    """Pages of the current versions holding every word of ``q``, in agenda order.

    Returns ``{"hits": [...], "pages_pending_ocr": n}``: ``n`` scanned pages whose text is
    still being read, so a search that found nothing can say it may find more later.
    """
    meeting = get_meeting(meeting_id, actor, Permission.VIEW)
    terms = terms_of(q)
    if not terms:
        raise InvalidInput("Type at least one word to search for.", fields={"q": "empty"})
    patterns = [re.compile(rf"\b{re.escape(term)}") for term in terms]
    documents = [(d, r) for d, r in visible_documents(actor, meeting)
                 if document_id is None or d.id == document_id]
    if document_id is not None and not documents:
        raise NotFound("No such document.")
    hits, pending = [], 0
    for document, right in documents:
        version = document.current_version
        if version is None or not right.pdf:  # confidential, for a participant: no text
            continue
        for page in version.pages:
            pending += page.ocr == "pending"
            folded = fold(page.text)
            if len(hits) < MAX_HITS and all(p.search(folded) for p in patterns):
                hits.append({"document_id": document.id, "title": document.title,
                             "version": version.number, "page": page.number,
                             "ocr": page.ocr is not None,
                             "snippet": snippet(page.text, folded, terms)})
    return {"hits": hits, "pages_pending_ocr": pending}
