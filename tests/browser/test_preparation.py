"""A secretary prepares a meeting in a real browser, from login to publish."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Error as PlaywrightError

from server.models import Role
from tests import factories

pytestmark = pytest.mark.browser

GOOD_CSV = (
    "full_name;email;position;role;voting_right;weight;seat\n"
    "Nguyễn Thị Hồng Nhung;nhung@example.vn;Chủ tịch HĐND tỉnh;chair;yes;1;A1\n"
    "Trần Đức Lương;;Đại biểu;delegate;yes;1;B1\n"
    "Phạm Văn Đồng;;Đại biểu;delegate;có;1,5;B2\n"
    "Lê Thị Thu Hà;;Thư ký kỳ họp;secretary;no;1;C1\n"
)
BAD_CSV = "full_name,weight\nNguyễn Văn An,1\nLê Thị Bình,nặng\nNguyễn Văn An,1\n"


def wait_until(page, expression: str, timeout: float = 10) -> None:
    """Poll a JS expression from here: page.wait_for_function would need 'unsafe-eval' in the CSP."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(expression):
                return
        except PlaywrightError:  # the page is navigating: ask again on the next one
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout}s: {expression} at {page.url}: "
                                 f"{page.inner_text('#main')[:600]}")
        time.sleep(0.05)


def add_item(page, title, *, under=None, minutes=None):
    page.fill("#new-title", title)
    if under:
        page.select_option("#new-parent_id", label=under)
    if minutes is not None:
        page.fill("#new-planned_minutes", str(minutes))
    page.click("#add-item button[type=submit]")
    page.wait_for_selector(f".item-title:text-is('{title}')")


def test_secretary_prepares_and_publishes_a_meeting(live_server, page, login, screenshot, tmp_path):
    secretary = factories.make_user(Role.SECRETARY, username="thuky", full_name="Lê Thị Thư Ký")
    login(page, secretary)
    assert page.url.endswith("/meetings/")

    page.click("a.btn[href='/meetings/new']")
    page.fill("#title", "Kỳ họp thứ 12 HĐND tỉnh khóa X")
    page.fill("#body", "Hội đồng nhân dân tỉnh Lâm Đồng")
    page.fill("#starts_at", "2026-12-01T08:00")
    page.fill("#ends_at", "2026-12-01T11:30")
    page.fill("#place", "Hội trường A")
    page.fill("#reference", "12/BB-HĐND")
    screenshot(page, "meeting-new")
    page.click("button[type=submit]:text('Create the meeting')")
    page.wait_for_url(re.compile(r"/meetings/\d+/agenda$"))
    meeting_id = int(re.search(r"/meetings/(\d+)/agenda", page.url).group(1))

    # A nested agenda: children through the "Under" choice and through the indent button.
    add_item(page, "Khai mạc kỳ họp", minutes=10)
    add_item(page, "Báo cáo tình hình kinh tế - xã hội")
    add_item(page, "Nông nghiệp", under="2. Báo cáo tình hình kinh tế - xã hội", minutes=20)
    add_item(page, "Công nghiệp và thương mại", under="2. Báo cáo tình hình kinh tế - xã hội", minutes=25)
    add_item(page, "Văn hóa - xã hội", minutes=15)
    page.locator("#agenda-tree li", has_text="Văn hóa - xã hội").locator("button[value=indent]").click()
    page.wait_for_selector("#agenda-tree .agenda-level .agenda-level >> text=Văn hóa - xã hội")
    add_item(page, "Mục tạm")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#agenda-tree li", has_text="Mục tạm").locator("form[data-confirm] button").click()
    page.wait_for_selector(".item-title:text-is('Mục tạm')", state="detached")
    add_item(page, "Bế mạc", minutes=5)

    # Keyboard: Alt+Shift+↑ moves the focused item, and the focus comes back to it.
    assert page.evaluate("document.activeElement.closest('.agenda-item')?.id") is not None
    titles = "[...document.querySelectorAll('.item-row .item-title')].map(e => e.textContent)"
    page.locator("#agenda-tree li", has_text="Bế mạc").locator("button[value=up]").focus()
    page.keyboard.press("Alt+Shift+ArrowUp")
    wait_until(page, f"{titles}[1] === 'Bế mạc'")
    focused = ("document.activeElement.closest('.agenda-item')"
               "?.querySelector('.item-title').textContent")
    wait_until(page, f"{focused} === 'Bế mạc'")
    page.keyboard.press("Alt+Shift+ArrowDown")
    wait_until(page, f"{titles}.at(-1) === 'Bế mạc'")
    numbers = page.locator(".item-row .num").all_inner_texts()
    assert numbers == ["1.", "2.", "2.1.", "2.2.", "2.3.", "3."]
    assert page.locator(".item-row .item-title").all_inner_texts()[4] == "Văn hóa - xã hội"
    screenshot(page, "meeting-agenda")

    # The overview still lists what is missing before publishing.
    page.click("nav.tabs >> text=Overview")
    assert page.locator("#publish-problems li[data-field='participants.chair']").is_visible()
    screenshot(page, "meeting-overview-draft")

    # A bad file is refused line by line, and nothing is imported.
    page.click("nav.tabs >> text=Participants")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(BAD_CSV.encode("utf-8"))
    page.set_input_files("#csv-file", str(bad))
    page.click("button:text-is('Import')")
    problems = page.locator("#import-problems tbody tr")
    problems.first.wait_for()
    rows = [problems.nth(i).locator("td").all_inner_texts()[:2] for i in range(problems.count())]
    assert ["3", "weight"] in rows and ["4", "full_name"] in rows
    assert page.locator("#participants").count() == 0
    screenshot(page, "meeting-participants-import-errors")

    good = tmp_path / "danh-sach.csv"
    good.write_bytes(GOOD_CSV.encode("utf-8-sig"))
    page.set_input_files("#csv-file", str(good))
    page.click("button:text-is('Import')")
    page.wait_for_selector("#participants")
    names = page.locator("#participants td.name").all_inner_texts()
    for name in ("Nguyễn Thị Hồng Nhung", "Trần Đức Lương", "Phạm Văn Đồng", "Lê Thị Thu Hà"):
        assert name in names
    # The diacritic-insensitive finder.
    page.fill("#people-filter", "tran duc")
    assert page.locator("#participants tbody tr:visible").count() == 1
    page.fill("#people-filter", "")
    screenshot(page, "meeting-participants")

    # Give Phạm Văn Đồng's proxy to Trần Đức Lương.
    page.locator("#participants tr", has_text="Phạm Văn Đồng").locator("a:text('Edit')").click()
    page.select_option("#proxy_holder_id", label="Trần Đức Lương (B1)")
    screenshot(page, "meeting-participant-edit")
    page.click("button[type=submit]:text('Save')")
    page.wait_for_selector("#participants")
    assert "Trần Đức Lương" in page.locator("#participants tr", has_text="Phạm Văn Đồng").inner_text()

    page.click("nav.tabs >> text=Overview")
    assert page.locator("#publish-problems").count() == 0
    page.click("#publish")
    page.wait_for_selector("[data-status=published]")
    assert page.locator("#published-note").is_visible()
    screenshot(page, "meeting-overview-published")

    api = page.request.get(f"/api/v1/meetings/{meeting_id}")
    assert api.status == 200 and api.json()["status"] == "published"
    agenda = page.request.get(f"/api/v1/meetings/{meeting_id}/agenda").json()
    assert [i["number"] for i in agenda["items"][1]["children"]] == ["2.1", "2.2", "2.3"]

    page.goto("/meetings/")
    assert page.locator("tr", has_text="Kỳ họp thứ 12").locator("[data-status=published]").is_visible()
    screenshot(page, "meetings-index")
    assert page.console_errors == []  # includes any CSP violation
