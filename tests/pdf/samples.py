"""A corpus of real PDFs, generated with PyMuPDF, and hostile files built byte by byte."""
from __future__ import annotations

import zlib
from pathlib import Path

import pymupdf

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pdfs"
FONT = "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"
VIETNAMESE = ("Nghị quyết về kế hoạch phát triển kinh tế - xã hội năm 2027 của "
              "Hội đồng nhân dân tỉnh Lâm Đồng. Đại biểu Nguyễn Thị Hường phát biểu ý kiến.")


def _text_page(doc, text: str, *, width=595, height=842, rotate=0):
    page = doc.new_page(width=width, height=height)
    page.insert_font(fontname="noto", fontfile=FONT)
    page.insert_textbox(pymupdf.Rect(50, 50, width - 50, height - 50), text, fontsize=12,
                        fontname="noto")
    if rotate:
        page.set_rotation(rotate)
    return page


def vietnamese(pages: int = 3, *, changed_page: int | None = None) -> bytes:
    """Pages of Vietnamese text; ``changed_page`` gets one different word (a new version)."""
    doc = pymupdf.open()
    for number in range(1, pages + 1):
        text = f"Trang {number}. {VIETNAMESE}"
        if number == changed_page:
            text = text.replace("2027", "2028")
        _text_page(doc, text)
    return doc.tobytes(garbage=3, deflate=True)


def dense(pages: int = 2) -> bytes:
    """Pages full of Vietnamese text, as a report is (the watermark tests and benchmark)."""
    doc = pymupdf.open()
    for number in range(1, pages + 1):
        _text_page(doc, f"Trang {number}. " + " ".join([VIETNAMESE] * 22))
    return doc.tobytes(garbage=3, deflate=True)


def with_image() -> bytes:
    doc = pymupdf.open()
    page = _text_page(doc, "Biểu đồ tăng trưởng GRDP")
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 64, 64), False)
    for x in range(64):
        for y in range(64):
            pixmap.set_pixel(x, y, (x * 4, y * 4, 128))
    page.insert_image(pymupdf.Rect(100, 200, 400, 500), pixmap=pixmap)
    page.draw_rect(pymupdf.Rect(90, 190, 410, 510), color=(0, 0, 1), width=2)
    return doc.tobytes(deflate=True)


def many_pages(count: int = 120) -> bytes:
    doc = pymupdf.open()
    for number in range(1, count + 1):
        page = doc.new_page()
        page.insert_text((72, 72), f"Trang {number} / {count}", fontsize=14)
    return doc.tobytes(garbage=1, deflate=True)


def rotated() -> bytes:
    doc = pymupdf.open()
    _text_page(doc, "Trang xoay 90 độ", rotate=90)
    _text_page(doc, "Trang ngang (A4 landscape)", width=842, height=595)
    _text_page(doc, "Trang xoay 270 độ", rotate=270)
    return doc.tobytes()


def form() -> bytes:
    doc = pymupdf.open()
    page = _text_page(doc, "Phiếu lấy ý kiến đại biểu")
    field = pymupdf.Widget()
    field.field_type = pymupdf.PDF_WIDGET_TYPE_TEXT
    field.field_name = "ho_ten"
    field.rect = pymupdf.Rect(100, 300, 400, 330)
    field.field_value = "Trần Văn B"
    page.add_widget(field)
    box = pymupdf.Widget()
    box.field_type = pymupdf.PDF_WIDGET_TYPE_CHECKBOX
    box.field_name = "dong_y"
    box.rect = pymupdf.Rect(100, 350, 120, 370)
    page.add_widget(box)
    return doc.tobytes()


def annotated() -> bytes:
    doc = pymupdf.open()
    page = _text_page(doc, VIETNAMESE)
    page.add_highlight_annot(pymupdf.Rect(50, 50, 300, 70))
    page.add_text_annot((400, 100), "Cần xem lại số liệu")
    page.add_ink_annot([[(100, 400), (200, 450), (300, 400)]])
    return doc.tobytes()


def with_javascript() -> bytes:
    doc = pymupdf.open()
    _text_page(doc, "Tài liệu có JavaScript")
    catalog = doc.pdf_catalog()
    js = doc.get_new_xref()
    doc.update_object(js, "<</S/JavaScript/JS(app.alert\\('pwned'\\);)>>")
    doc.xref_set_key(catalog, "OpenAction", f"{js} 0 R")
    names = doc.get_new_xref()
    doc.update_object(names, "<</Names[(a) <</S/JavaScript/JS(app.alert\\(1\\))>>]>>")
    doc.xref_set_key(catalog, "Names", f"<</JavaScript {names} 0 R>>")
    doc.xref_set_key(doc[0].xref, "AA", "<</O <</S/Launch/F(calc.exe)>>>>")
    return doc.tobytes()


def encrypted(user_password: str = "secret") -> bytes:
    doc = pymupdf.open(stream=vietnamese(1), filetype="pdf")
    return doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner",
                       user_pw=user_password)


def truncated(fraction: float = 0.5) -> bytes:
    data = vietnamese(3)
    return data[: int(len(data) * fraction)]


def broken_xref() -> bytes:
    """A PDF whose cross-reference offsets are wrong: MuPDF repairs it."""
    data = vietnamese(2)
    start = data.rindex(b"startxref")
    return data[:start] + b"startxref\n12345\n%%EOF\n"


def build(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF from raw object bodies (numbered from 1), with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root %d 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


def zero_pages() -> bytes:
    return build([b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[]/Count 0>>"])


def pages(count: int) -> bytes:
    """``count`` empty pages, written directly: 50 000 pages take milliseconds."""
    kids = b"".join(b"%d 0 R " % (n + 3) for n in range(count))
    page = b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>"
    return build([b"<</Type/Catalog/Pages 2 0 R>>",
                  b"<</Type/Pages/Kids[" + kids + b"]/Count %d>>" % count] + [page] * count)


def page_of_size(width_pt: float, height_pt: float) -> bytes:
    return build([b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
                  b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 %g %g]>>" % (width_pt, height_pt)])


def _zeros_deflated(size: int) -> bytes:
    """A zlib stream of ``size`` zero bytes (a multiple of 1 MiB) without compressing them all:
    after a full flush, each MiB of zeros compresses to the same block, so the block is
    repeated, and the Adler-32 of n zeros is simply (n mod 65521) << 16 | 1."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush(zlib.Z_FINISH)
    adler = ((size % 65521) << 16) | 1
    return b"\x78\xda" + block * (size >> 20) + tail + adler.to_bytes(4, "big")


def image_bomb(side: int = 32768) -> bytes:
    """A ``side`` × ``side`` grey image (1 GiB decoded at the default) in a ~1 MB Flate stream."""
    stream = _zeros_deflated(side * side)
    image = (b"<</Type/XObject/Subtype/Image/Width %d/Height %d/ColorSpace/DeviceGray"
             b"/BitsPerComponent 8/Filter/FlateDecode/Length %d>>stream\n" % (side, side, len(stream))
             + stream + b"\nendstream")
    content = b"q 500 0 0 700 50 50 cm /Im0 Do Q"
    return build([
        b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</XObject<</Im0 4 0 R>>>>"
        b"/Contents 5 0 R>>",
        image,
        b"<</Length %d>>stream\n" % len(content) + content + b"\nendstream",
    ])


def content_bomb(decoded_bytes: int = 1 << 30) -> bytes:
    """A page whose content stream is ~1 MB of Flate that inflates to ``decoded_bytes`` of zeros."""
    stream = _zeros_deflated(decoded_bytes)
    return build([
        b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R>>",
        b"<</Filter/FlateDecode/Length %d>>stream\n" % len(stream) + stream + b"\nendstream",
    ])


def slow(pages_count: int = 400, paths_per_page: int = 20000) -> bytes:
    """Many pages sharing one heavy content stream: cheap to store, slow to interpret."""
    ops = b"".join(b"%d %d m %d %d l S\n" % (i % 500, i % 700, (i * 7) % 500, (i * 3) % 700)
                   for i in range(paths_per_page))
    stream = zlib.compress(ops)
    count = pages_count
    kids = b"".join(b"%d 0 R " % (n + 4) for n in range(count))
    page = b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 3 0 R>>"
    return build([b"<</Type/Catalog/Pages 2 0 R>>",
                  b"<</Type/Pages/Kids[" + kids + b"]/Count %d>>" % count,
                  b"<</Filter/FlateDecode/Length %d>>stream\n" % len(stream) + stream + b"\nendstream"]
                 + [page] * count)


def real_world() -> bytes:
    return (FIXTURES / "libtasn1-manual.pdf").read_bytes()


CORPUS = {
    "vietnamese": (lambda: vietnamese(3), 3),
    "image": (with_image, 1),
    "many_pages": (lambda: many_pages(120), 120),
    "rotated": (rotated, 3),
    "form": (form, 1),
    "annotated": (annotated, 1),
    "libtasn1_manual": (real_world, 36),
}
