"""The empty signature fields of final minutes, one over each signature block.

Below the services: finalising the minutes creates the fields, signing fills
them (server/services/minutes/signing.py), and neither imports the other.
pyHanko is imported when a field is made, not at start-up.
"""
from __future__ import annotations

import io

# Field names, in signing order.
FIELDS = {"chair": "sig_chair", "secretary": "sig_secretary"}
SIGNING_ORDER = ("chair", "secretary")


def add_signature_fields(pdf: bytes, boxes: dict[str, tuple[int, tuple]]) -> bytes:
    """Create the empty signature fields over the signature blocks of the layout."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    for role in SIGNING_ORDER:
        page, box = boxes[role]
        fields.append_signature_field(
            writer, fields.SigFieldSpec(FIELDS[role], on_page=page, box=box))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
