"""What an attacker does to signed minutes, with real PDFs and pyHanko (tests only).

``forge`` re-renders the minutes with a changed decision and signs them with
certificates the attacker made in the chair's and the secretary's names (issue 22).
``not_adopted_overlay`` is finding 3 of issue 23: cut the file back to the
chair-signed revision, add an empty third signature field whose appearance is an
opaque box reading "NOT ADOPTED" over page 1, then let the real secretary sign.
"""
from __future__ import annotations

import copy
import io

from server.pdf.minutes import render_minutes
from server.pdf.signature_fields import add_signature_fields
from server.services.minutes.signing import sign_pdf
from tests.pki import Issued

PASSPHRASE = "forger-passphrase"
A4 = (0, 0, 595, 842)


def forge(minutes, chair: Issued, secretary: Issued, *, decision: str = "KHÔNG thông qua",
          head: str | None = None) -> bytes:
    """The minutes re-rendered with every decision changed, signed in the right names."""
    sections = copy.deepcopy(minutes.sections)
    for item in sections["items"]:
        item["decision"] = decision
    rendered = render_minutes(sections, minutes.free_text, minutes.language,
                              head or minutes.audit_head)
    pdf = add_signature_fields(rendered.pdf, rendered.signature_boxes)
    for role, who in (("chair", chair), ("secretary", secretary)):
        pdf = sign_as(pdf, role, who)
    return pdf


def sign_as(pdf: bytes, role: str, who: Issued, name: str | None = None) -> bytes:
    subject = who.cert.subject.rfc4514_string().removeprefix("CN=")
    return sign_pdf(pdf, role, who.pkcs12(PASSPHRASE), PASSPHRASE, signer_name=name or subject,
                    role_label=role)


def add_overlay_field(pdf: bytes, text: bytes = b"NOT ADOPTED", name: str = "sig_note") -> bytes:
    """An incremental update adding an empty signature field, page-sized, whose appearance
    is an opaque white box with ``text`` in large red letters."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    fields.append_signature_field(writer, fields.SigFieldSpec(name, on_page=0, box=A4))
    font = writer.add_object(generic.DictionaryObject({
        generic.pdf_name("/Type"): generic.pdf_name("/Font"),
        generic.pdf_name("/Subtype"): generic.pdf_name("/Type1"),
        generic.pdf_name("/BaseFont"): generic.pdf_name("/Helvetica-Bold")}))
    content = (b"q 1 1 1 rg 0 0 595 842 re f 0.8 0 0 rg BT /F1 64 Tf 60 420 Td ("
               + text + b") Tj ET Q")
    appearance = generic.StreamObject({
        generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
        generic.pdf_name("/Subtype"): generic.pdf_name("/Form"),
        generic.pdf_name("/BBox"): generic.ArrayObject(map(generic.FloatObject, A4)),
        generic.pdf_name("/Resources"): generic.DictionaryObject({
            generic.pdf_name("/Font"): generic.DictionaryObject({generic.pdf_name("/F1"): font})}),
    }, stream_data=content)
    appearance_ref = writer.add_object(appearance)
    for ref in writer.root["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        if field["/T"] == name:
            field[generic.pdf_name("/AP")] = generic.DictionaryObject(
                {generic.pdf_name("/N"): appearance_ref})
            writer.update_container(field)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
