"""The empty signature fields of final minutes, one over each signature block.

Below the services: finalising the minutes creates the fields, signing fills
them (server/services/minutes/signing.py), and neither imports the other.
pyHanko is imported when a field is made, not at start-up.
"""
from __future__ import annotations

import io

from server.sentences import Sentence

# Field names by signer role. The minutes are signed by the chair, then the secretary; a
# written consultation's report by the office (its seal).
FIELDS = {"chair": "sig_chair", "secretary": "sig_secretary", "office": "sig_office"}
SIGNING_ORDER = ("chair", "secretary")
REPORT_SIGNERS = ("office",)


def add_signature_fields(pdf: bytes, boxes: dict[str, tuple[int, tuple]],
                         roles: tuple[str, ...] = SIGNING_ORDER) -> bytes:
    """Create the empty signature fields over the signature blocks of the layout."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    for role in roles:
        page, box = boxes[role]
        fields.append_signature_field(
            writer, fields.SigFieldSpec(FIELDS[role], on_page=page, box=box))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _get(dictionary, key: str, default=None):
    """A key of a pyHanko dictionary, dereferenced (``.get`` leaves references as they are)."""
    return dictionary[key] if key in dictionary else default


def _pages(node, seen: set | None = None):
    """The page dictionaries under a /Pages node, in order (cycles and repeats ignored)."""
    seen = set() if seen is None else seen
    for ref in _get(node, "/Kids", []):
        key = (ref.idnum, ref.generation) if hasattr(ref, "idnum") else id(ref)
        if key in seen:
            continue
        seen.add(key)
        kid = ref.get_object()
        if _get(kid, "/Type") == "/Pages" or "/Kids" in kid:
            yield from _pages(kid, seen)
        else:
            yield kid


def _field_rects(root) -> dict[str, list[float]]:
    rects = {}
    for ref in _get(_get(root, "/AcroForm", {}), "/Fields", []):
        field = ref.get_object()
        rects[str(_get(field, "/T", ""))] = [round(float(v), 2) for v in _get(field, "/Rect", [])]
    return rects


def _field_names(root) -> list[str]:
    return [str(_get(ref.get_object(), "/T", ""))
            for ref in _get(_get(root, "/AcroForm", {}), "/Fields", [])]


def _is_document_timestamp(field) -> bool:
    """An invisible field holding a document timestamp (PAdES B-LTA): nothing on a page."""
    value = _get(field, "/V")
    rect = [float(v) for v in _get(field, "/Rect", [])]
    return (_get(field, "/FT") == "/Sig" and value is not None
            and _get(value, "/Type") == "/DocTimeStamp" and "/Kids" not in field
            and (not rect or (rect[2] - rect[0]) * (rect[3] - rect[1]) == 0))


def _archival_revision(reader, revision: int, timestamps: set[int]) -> bool:
    """A revision that only adds validation data (a DSS) or one document timestamp."""
    if revision in timestamps:
        return True
    root, before = reader.get_historical_root(revision), reader.get_historical_root(revision - 1)
    return "/DSS" in root and _field_names(root) == _field_names(before)


def layout_problems(reader, signatures, timestamps=(),
                    roles: tuple[str, ...] = SIGNING_ORDER) -> list[str]:
    """What makes these minutes other than the expected ones, read with pyHanko.

    Exactly two form fields, ``sig_chair`` and ``sig_secretary``, both signature
    fields, each one widget where the minutes put it, and no other annotation on
    any page; ``signatures`` (pyHanko's embedded signatures, by revision) fill
    them in signing order, each in the revision right after the previous one, so
    nothing can be slipped in between two signatures, and the last covers the file.
    Long-term signatures (PAdES B-LT, B-LTA) add revisions that only hold validation
    data (a DSS), and after the last signature invisible document timestamps
    (``timestamps``): those, and only those, may come between and after.
    """
    problems = []
    expected = [FIELDS[role] for role in roles]
    stamps = {t.field_name for t in timestamps if t.signed_revision > (
        signatures[-1].signed_revision if signatures else reader.xrefs.total_revisions)}
    root = reader.root
    names = []
    for ref in _get(_get(root, "/AcroForm", {}), "/Fields", []):
        field = ref.get_object()
        name = str(_get(field, "/T", ""))
        if name in stamps and _is_document_timestamp(field):
            continue
        names.append(name)
        if name in expected and (_get(field, "/FT") != "/Sig" or "/Kids" in field):
            problems.append(Sentence("the field %(field)s is not a single signature field",
                                     field=name))
    extra = [n for n in names if n not in expected]
    if extra or sorted(names) != sorted(expected):
        problems.append(Sentence("the form has the fields %(found)s, not exactly %(expected)s",
                                 found=", ".join(names) or "-", expected=", ".join(expected)))
    for number, page in enumerate(_pages(root["/Pages"]), start=1):
        for ref in _get(page, "/Annots", []):
            annotation = ref.get_object()
            subtype = str(_get(annotation, "/Subtype", "?"))
            name = str(_get(annotation, "/T", ""))
            if name in stamps and subtype == "/Widget" and _is_document_timestamp(annotation):
                continue
            if subtype != "/Widget" or name not in expected:
                problems.append(Sentence("page %(page)s has an annotation that is not a signature "
                                         "field of the minutes (%(what)s)", page=number,
                                         what=f"{subtype} {name}".rstrip()))
    signed = [s.field_name for s in signatures]
    if signed != expected[:len(signed)]:
        problems.append(Sentence("the signatures fill %(found)s, not %(expected)s in this order",
                                 found=", ".join(signed) or "-", expected=", ".join(expected)))
    stamped = {t.signed_revision for t in timestamps}
    for before, after in zip(signatures, signatures[1:]):
        if not all(_archival_revision(reader, r, set())
                   for r in range(before.signed_revision + 1, after.signed_revision)):
            problems.append(Sentence("something was added to the file between %(before)s and "
                                     "%(after)s", before=before.field_name, after=after.field_name))
    if signatures:
        last = signatures[-1]
        if not all(_archival_revision(reader, r, stamped)
                   for r in range(last.signed_revision + 1, reader.xrefs.total_revisions)):
            problems.append(Sentence("something was added to the file after %(field)s",
                                     field=last.field_name))
        first = _field_rects(reader.get_historical_root(signatures[0].signed_revision))
        now = _field_rects(root)
        for name in expected:
            if name in first and name in now and first[name] != now[name]:
                problems.append(Sentence("the field %(field)s was moved or resized after the "
                                         "first signature", field=name))
    return problems
