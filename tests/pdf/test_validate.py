"""Validation in the sandbox process: a corpus of real PDFs is accepted, hostile files are
refused with a clear code, and nothing a file does can hurt the test process."""
from __future__ import annotations

import dataclasses

import pymupdf
import pytest

from server.pdf import render, sandbox
from server.pdf.validate import Limits
from tests.pdf import samples


def inspect(tmp_path, data: bytes, first_pages: int = 3, **limits) -> dict:
    source = tmp_path / "upload.pdf"
    source.write_bytes(data)
    lim = dataclasses.replace(Limits(), **limits)
    return sandbox.run(
        "inspect",
        {"path": str(source), "out_path": str(tmp_path / "clean.pdf"), "limits": lim.as_dict(),
         "data_dir": str(tmp_path / "data"), "first_pages": first_pages},
        memory_mb=lim.memory_mb, cpu_seconds=lim.cpu_seconds, wall_seconds=lim.wall_seconds,
    )


def refusal(tmp_path, data: bytes, **limits) -> str:
    with pytest.raises(sandbox.SandboxError) as caught:
        inspect(tmp_path, data, **limits)
    return caught.value.code


@pytest.mark.parametrize("name", sorted(samples.CORPUS))
def test_real_world_pdfs_are_accepted_with_pages_text_and_first_renders(tmp_path, name):
    factory, page_count = samples.CORPUS[name]
    result = inspect(tmp_path, factory())
    assert result["page_count"] == page_count
    assert len(result["pages"]) == page_count
    assert result["pages_rendered"] == min(3, page_count)
    assert all(len(page["content_sha256"]) == 64 for page in result["pages"])
    large = render.cache_path(tmp_path / "data", result["sha256"], 1, "large", "png")
    thumb = render.cache_path(tmp_path / "data", result["sha256"], 1, "thumb", "jpg")
    large_image, thumb_image = pymupdf.Pixmap(str(large)), pymupdf.Pixmap(str(thumb))
    assert large_image.width == 1600 and thumb_image.width == 400
    assert not render.cache_path(tmp_path / "data", result["sha256"], 4, "large", "jpg").exists()


def test_vietnamese_text_is_extracted_per_page_in_nfc(tmp_path):
    result = inspect(tmp_path, samples.vietnamese(2))
    assert "Trang 2. Nghị quyết về kế hoạch" in result["pages"][1]["text"]
    assert "Nguyễn Thị Hường" in result["pages"][0]["text"]


def test_rotated_pages_render_in_their_displayed_orientation(tmp_path):
    result = inspect(tmp_path, samples.rotated())
    image = pymupdf.Pixmap(str(render.cache_path(tmp_path / "data", result["sha256"], 1, "large", "jpg")))
    assert image.width == 1600 and image.height < image.width  # portrait page turned 90°


HOSTILE = {
    "garbage_named_pdf": (lambda: b"MZ\x90\x00" + bytes(range(256)) * 40, "not_a_pdf"),
    "truncated_early": (lambda: samples.truncated(0.3), "damaged_pdf"),
    "truncated_late": (lambda: samples.truncated(0.9), "damaged_pdf"),
    "truncated_header_only": (lambda: samples.vietnamese(1)[:40], "invalid_pdf"),
    "encrypted": (lambda: samples.encrypted("secret"), "encrypted_pdf"),
    "owner_password_only": (lambda: samples.encrypted(""), "encrypted_pdf"),
    "zero_pages": (samples.zero_pages, "empty_pdf"),
    "fifty_thousand_pages": (lambda: samples.pages(50_000), "too_many_pages"),
    "ten_metre_page": (lambda: samples.page_of_size(28_346, 28_346), "page_too_large"),
    "sub_point_page": (lambda: samples.page_of_size(0.2, 800), "page_too_small"),
    "image_bomb_1gib": (samples.image_bomb, "image_too_large"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_are_refused_with_a_clear_code(tmp_path, name):
    factory, code = HOSTILE[name]
    assert refusal(tmp_path, factory()) == code
    assert not (tmp_path / "data").exists()  # nothing rendered for a refused file


def test_a_content_stream_bomb_hits_the_memory_limit_not_the_server(tmp_path):
    # 1 GiB of zeros in a 1 MB stream; the sandbox may use 400 MB.
    assert refusal(tmp_path, samples.content_bomb(1 << 30), memory_mb=400) == "pdf_too_complex"


def test_an_image_bomb_allowed_by_the_pixel_limit_is_still_bounded(tmp_path):
    # With the image-size check lifted, MuPDF inflates the 1 GiB image (it subsamples while
    # decoding, so 400 MB may suffice): the CPU limit stops it instead of the server stalling.
    code = refusal(tmp_path, samples.image_bomb(32768), max_image_pixels=2**31, memory_mb=400,
                   cpu_seconds=3)
    assert code in ("pdf_too_slow", "pdf_too_complex")


def test_a_slow_file_is_stopped_by_the_cpu_limit(tmp_path):
    assert refusal(tmp_path, samples.slow(400, 20000), cpu_seconds=1) == "pdf_too_slow"


def test_a_slow_file_is_stopped_by_the_wall_clock_time_out(tmp_path):
    assert refusal(tmp_path, samples.slow(400, 20000), wall_seconds=0.5) == "pdf_too_slow"


def test_page_count_limit_is_configurable(tmp_path):
    assert refusal(tmp_path, samples.many_pages(12), max_pages=10) == "too_many_pages"


def test_javascript_and_launch_actions_are_removed(tmp_path):
    result = inspect(tmp_path, samples.with_javascript())
    assert result["javascript_removed"] >= 3
    assert result["rewritten"] and result["stored_path"].endswith("clean.pdf")
    cleaned = (tmp_path / "clean.pdf").read_bytes()
    for marker in (b"/JavaScript", b"app.alert", b"/Launch", b"calc.exe"):
        assert marker not in cleaned
    doc = pymupdf.open(tmp_path / "clean.pdf")
    assert "Tài liệu có JavaScript" in doc[0].get_text()


def test_a_file_with_a_broken_xref_is_repaired_and_rewritten(tmp_path):
    result = inspect(tmp_path, samples.broken_xref())
    assert result["repaired"] and result["page_count"] == 2
    assert not pymupdf.open(tmp_path / "clean.pdf").is_repaired


def test_a_file_cut_after_its_last_object_is_repaired(tmp_path):
    data = samples.vietnamese(2)
    result = inspect(tmp_path, data[: data.rindex(b"xref")])
    assert result["repaired"] and result["page_count"] == 2
    assert "Trang 2" in result["pages"][1]["text"]


def test_page_hash_ignores_how_the_file_was_written_but_sees_a_changed_word(tmp_path):
    original = samples.vietnamese(4)
    rewritten = pymupdf.open(stream=original, filetype="pdf").tobytes(garbage=4, deflate=False,
                                                                      no_new_id=False)
    changed = samples.vietnamese(4, changed_page=3)
    assert rewritten != original
    hashes = [[p["content_sha256"] for p in inspect(tmp_path, data)["pages"]]
              for data in (original, rewritten, changed)]
    assert hashes[0] == hashes[1]
    assert [a == b for a, b in zip(hashes[0], hashes[2])] == [True, True, False, True]


def test_page_hash_sees_a_changed_image(tmp_path):
    first = inspect(tmp_path, samples.with_image())["pages"][0]["content_sha256"]
    doc = pymupdf.open(stream=samples.with_image(), filetype="pdf")
    xref = doc[0].get_images()[0][0]
    doc[0].replace_image(xref, pixmap=pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 64, 64), False))
    second = inspect(tmp_path, doc.tobytes())["pages"][0]["content_sha256"]
    assert first != second


def test_render_scale_keeps_extreme_pages_within_the_pixel_budget():
    scale = render.scale_for(20, 14_000, 1600)
    assert 20 * 14_000 * scale * scale <= render.MAX_PIXELS * 1.0001
    assert render.scale_for(595, 842, 1600) == pytest.approx(1600 / 595)


def test_extracted_text_is_bounded_per_page_and_per_document(tmp_path):
    result = inspect(tmp_path, samples.vietnamese(3), first_pages=0, max_text_chars=40,
                     max_total_text_chars=100)
    lengths = [len(page["text"]) for page in result["pages"]]
    assert lengths == [40, 40, 20]


def test_a_content_stream_bomb_is_refused_with_the_default_limits(tmp_path):
    # MuPDF's own bomb detection or the memory limit, whichever comes first.
    assert refusal(tmp_path, samples.content_bomb(1 << 30)) == "pdf_too_complex"
