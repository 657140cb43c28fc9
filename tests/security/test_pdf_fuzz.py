"""Mutated real PDFs through the upload endpoint: a 201 or a clear 4xx, never a 5xx.

Small PDFs made with PyMuPDF (text, an image, an outline, an embedded file)
are damaged by byte flips, truncation, spliced garbage and duplicated ranges.
Each upload is parsed in the PDF sandbox; the app must answer cleanly and
keep answering /healthz, and a refused file must leave no document behind.
"""
from __future__ import annotations

import io

import pymupdf
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from server.extensions import db
from server.models import Document

EXAMPLES = 12


def _seeds() -> list[bytes]:
    plain = pymupdf.open()
    for n in range(2):
        plain.new_page(width=300, height=400).insert_text((40, 60), f"Trang {n + 1}: Nghị quyết")
    rich = pymupdf.open()
    page = rich.new_page(width=300, height=400)
    page.insert_text((40, 60), "Biểu đồ")
    page.insert_image(pymupdf.Rect(40, 80, 140, 180),
                      pixmap=pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 16, 16), False))
    rich.set_toc([[1, "Mục 1", 1]])
    rich.embfile_add("note.txt", b"hello")
    return [plain.tobytes(), plain.tobytes(garbage=3, deflate=True), rich.tobytes()]


SEEDS = _seeds()


@st.composite
def damaged_pdfs(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "splice", "duplicate", "zero"]))
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[max(at, 16):]
        elif kind == "splice":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "duplicate":
            end = min(len(data), at + draw(st.integers(1, 512)))
            data[at:at] = data[at:end]
        else:
            end = min(len(data), at + draw(st.integers(1, 256)))
            data[at:end] = bytes(end - at)
    return bytes(data)


def test_damaged_pdfs_get_a_clean_answer(world_app, roles):
    app, world = world_app
    url = f"/api/v1/meetings/{world.ids['meeting_id']}/documents"
    seen = []

    def documents() -> int:
        db.session.remove()
        return db.session.scalar(select(func.count()).select_from(Document))

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(data=damaged_pdfs())
    def upload(data):
        before = documents()
        response = roles.request("secretary", "POST", url, content_type="multipart/form-data",
                                 data={"file": (io.BytesIO(data), "hỏng.pdf")})
        seen.append(response.status_code)
        assert response.status_code in (201, 413, 415, 422), response.get_data(as_text=True)[:300]
        if response.status_code != 201:
            assert response.get_json()["error"]["code"], "a refusal says why"
            assert documents() == before, "a refused file left a document behind"
        assert roles.request("anonymous", "GET", "/healthz").status_code == 200

    upload()
    assert len(seen) >= EXAMPLES // 2
