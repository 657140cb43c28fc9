"""Scanned pages made from known Vietnamese text, for the OCR tests and bench/ocr.py.

The text is set in Noto Serif (Debian's fonts-noto-core, embedded Unicode font), the page
is rasterised, optionally degraded like a real scan (a slight or a quarter-turn rotation,
speckle noise, low resolution), and put back in a PDF as an image only: no text layer.
"""
from __future__ import annotations

import io
import random
import unicodedata

import pymupdf

SERIF = "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf"
LETTER = """ỦY BAN NHÂN DÂN QUẬN BA ĐÌNH
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Kính gửi: Thường trực Hội đồng nhân dân thành phố
Ủy ban nhân dân quận xin báo cáo kết quả thực hiện nhiệm vụ
phát triển kinh tế xã hội sáu tháng đầu năm. Tổng thu ngân sách
đạt chín mươi hai phần trăm dự toán; các công trình trường học,
trạm y tế và đường giao thông được khởi công đúng tiến độ.
Đề nghị Hội đồng xem xét, cho ý kiến về việc điều chỉnh dự toán
và bổ sung kinh phí cho chương trình chuyển đổi số của quận."""
REPORT = """BÁO CÁO THẨM TRA
Ban Kinh tế - Ngân sách đã họp thẩm tra tờ trình của Ủy ban
nhân dân về kế hoạch đầu tư công trung hạn. Ban thống nhất với
sự cần thiết, đồng thời đề nghị làm rõ nguồn vốn đối ứng,
tiến độ giải ngân và trách nhiệm của từng sở, ngành liên quan."""
TEXTS = (LETTER, REPORT)


def _page_pixmap(text: str, dpi: int, width=595, height=842) -> pymupdf.Pixmap:
    doc = pymupdf.open()
    page = doc.new_page(width=width, height=height)
    page.insert_font(fontname="serif", fontfile=SERIF)
    page.insert_text((60, 90), text, fontname="serif", fontsize=12, lineheight=1.7)
    return page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)


def scan_image(text: str, *, dpi: int = 150, angle: float = 0.0, noise: float = 0.0,
               seed: int = 1):
    """A Pillow grey image of the text as a scanner would give it."""
    from PIL import Image

    pixmap = _page_pixmap(text, dpi)
    image = Image.frombytes("L", (pixmap.width, pixmap.height), pixmap.samples)
    if angle:
        image = image.rotate(angle, expand=True, fillcolor=255,
                             resample=Image.Resampling.BICUBIC)
    if noise:
        rng = random.Random(seed)
        pixels = image.load()
        for _ in range(int(image.width * image.height * noise)):
            x, y = rng.randrange(image.width), rng.randrange(image.height)
            pixels[x, y] = rng.choice((0, 255))
    return image


def add_scan(doc, image, dpi: int) -> None:
    """The image as a page of its own size at ``dpi``, with no text layer."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    width, height = image.width * 72 / dpi, image.height * 72 / dpi
    page = doc.new_page(width=width, height=height)
    page.insert_image(page.rect, stream=buffer.getvalue())


def scanned(text: str = LETTER, **degrade) -> bytes:
    doc = pymupdf.open()
    dpi = degrade.get("dpi", 150)
    add_scan(doc, scan_image(text, **degrade), dpi)
    return doc.tobytes(deflate=True)


def mixed(text_page: str, scans: list[tuple[str, dict]]) -> bytes:
    """A text page (a real text layer) followed by scanned pages: (text, degradation)."""
    from tests.pdf.samples import FONT

    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_font(fontname="noto", fontfile=FONT)
    page.insert_textbox(pymupdf.Rect(50, 50, 545, 792), text_page, fontsize=12, fontname="noto")
    for text, degrade in scans:
        add_scan(doc, scan_image(text, **degrade), degrade.get("dpi", 150))
    return doc.tobytes(deflate=True)


def normalise(text: str) -> str:
    """For comparing: NFC, one space between words, no line structure."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def char_accuracy(expected: str, got: str) -> float:
    """1 − (Levenshtein distance ÷ length of the expected text), on normalised text."""
    a, b = normalise(expected), normalise(got)
    if not a:
        return 1.0 if not b else 0.0
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return max(0.0, 1 - previous[-1] / len(a))


# The lowest character accuracy the tests accept for a page read back by OCR: what
# bench/ocr.py measured on its worst degraded pages (0.981: 1 % noise; skew + noise + 120 dpi);
# clean pages from 100 to 200 dpi read at 0.996 (docs/DOCUMENTS.md, "Scanned pages").
ACCURACY_FLOOR = 0.98
