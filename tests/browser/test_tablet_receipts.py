"""Finding 5 of the security review: a stolen tablet must not reveal a secret vote.

The real tablet app in Chromium against a real server. A receipt is shown on
screen and can be downloaded, but never written to the tablet's storage; a
remote wipe (and then every page and note of the meeting), a revocation and
the sealing of the meeting erase whatever the tablet still holds of ballots and
receipts: what an older client stored under ``hemicycle.receipt.<poll>.<me>``
included. "Holds" is read as a thief would: every localStorage and
sessionStorage value, every IndexedDB record, the page's text.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.extensions import db
from server.models import Meeting
from server.services.actors import Actor
from server.services.archive import package
from tests.browser.test_tablet import (  # noqa: F401  (staff and world are fixtures)
    RECEIPT, create_poll, open_tablet, pair_tablet, script_errors, staff, world,
)
from tests.live import wait_until

pytestmark = pytest.mark.browser

EVERYTHING_STORED = """async () => {
  const found = [document.body.innerText];
  for (const area of [localStorage, sessionStorage]) {
    for (const name of Object.keys(area)) found.push(name, area.getItem(name));
  }
  for (const info of await indexedDB.databases()) {
    const idb = await new Promise((ok, ko) => {
      const request = indexedDB.open(info.name);
      request.onsuccess = () => ok(request.result);
      request.onerror = () => ko(request.error);
    });
    for (const store of idb.objectStoreNames) {
      const records = await new Promise((ok) => {
        const request = idb.transaction(store).objectStore(store).getAll();
        request.onsuccess = () => ok(request.result);
        request.onerror = () => ok([]);
      });
      found.push(JSON.stringify(records));
    }
    idb.close();
  }
  return found.join("\\n");
}"""


def stored(tablet) -> str:
    return tablet.evaluate(EVERYTHING_STORED)


def vote_secretly(tablet, staff, motion: str) -> tuple[dict, str]:
    poll = create_poll(staff, motion, "secret")
    tablet.wait_for_selector(".ballot .option-no")
    tablet.click(".ballot .option-no")
    tablet.click("#confirm-vote")
    tablet.wait_for_selector(".ballot .recorded")
    receipt = RECEIPT.search(tablet.inner_text(".ballot .receipt")).group(0)
    return poll, receipt


def as_an_older_client_left_it(tablet, poll: dict, participant, receipt: str) -> None:
    tablet.evaluate("([name, value]) => localStorage.setItem(name, value)",
                    [f"hemicycle.receipt.{poll['id']}.{participant.id}", receipt])


def test_a_receipt_is_kept_only_by_choice_and_a_remote_wipe_erases_the_meeting(
        browser, live_server, world, staff):
    context, tablet = open_tablet(browser, live_server.url)
    try:
        pair_tablet(tablet, staff, world.alice)
        tablet.wait_for_selector(".attendance-state.att-present")
        poll, receipt = vote_secretly(tablet, staff, "Bầu Trưởng ban Pháp chế (phiếu kín)")
        assert receipt in tablet.inner_text(".ballot")  # shown, to write down
        assert receipt not in stored(tablet).replace(tablet.inner_text("body"), "")
        with tablet.expect_download() as download:
            tablet.click("#download-receipt")
        assert receipt in Path(download.value.path()).read_text(encoding="utf-8")
        tablet.click(".ballot button:has-text('Close')")

        # Published: the voter checks the receipt against the list, and the list's digest shows.
        staff.post(f"/polls/{poll['id']}/close")
        staff.post(f"/polls/{poll['id']}/publish", {})
        tablet.click("#tabs a[data-view=vote]")
        tablet.wait_for_selector(".result .receipt-check")
        assert tablet.input_value(".result .receipt-check input") == receipt
        tablet.click(".result .receipt-check button")
        tablet.wait_for_selector(".result .receipt-answer:has-text('In the published')")
        digest = staff.http.get(f"{staff.base_url}/api/v1/polls/{poll['id']}/result").json()[
            "ballot_digest"]
        assert digest in tablet.inner_text(".result .digest")
        tablet.fill(".result .receipt-check input", "0000000000")
        tablet.click(".result .receipt-check button")
        tablet.wait_for_selector(".result .receipt-answer:has-text('not in')")

        as_an_older_client_left_it(tablet, poll, world.alice, receipt)
        tablet.click("#tabs a[data-view=docs]")
        tablet.wait_for_selector(f"[data-doc-id='{world.public.id}'] .offline-state.saved")
        device_id = tablet.evaluate("JSON.parse(localStorage.getItem('hemicycle.pairing')).device_id")
        staff.post(f"/devices/{device_id}/wipe", status=202)
        tablet.wait_for_selector("body[data-wiped=true]", timeout=30_000)
        meeting = str(world.meeting.id)
        wait_until(lambda: receipt not in stored(tablet), what="the receipt to go")
        wait_until(lambda: not any(name.endswith(f"-{meeting}")
                                   for name in tablet.evaluate("caches.keys()")),
                   what="every cached page of the meeting to go")
        assert not re.search(r"hemicycle\.(ballot|receipt)\.", stored(tablet))
        assert script_errors(tablet) == []
    finally:
        context.close()


def test_a_revoked_tablet_forgets_receipts(browser, live_server, world, staff):
    context, tablet = open_tablet(browser, live_server.url)
    try:
        pair_tablet(tablet, staff, world.bob)
        poll, receipt = vote_secretly(tablet, staff, "Bầu Phó Trưởng ban Pháp chế (phiếu kín)")
        as_an_older_client_left_it(tablet, poll, world.bob, receipt)
        device_id = tablet.evaluate("JSON.parse(localStorage.getItem('hemicycle.pairing')).device_id")
        assert staff.http.delete(f"{live_server.url}/api/v1/devices/{device_id}").status_code == 204
        tablet.wait_for_selector("#pin")
        wait_until(lambda: receipt not in stored(tablet), what="the receipt to go")
        assert not re.search(r"hemicycle\.(ballot|receipt)\.", stored(tablet))
        assert script_errors(tablet) == []
    finally:
        staff.post(f"/polls/{poll['id']}/cancel")
        context.close()


def test_sealing_the_meeting_erases_receipts(browser, live_server, world, staff):
    """Last in this module: the meeting is sealed for good."""
    context, tablet = open_tablet(browser, live_server.url)
    try:
        pair_tablet(tablet, staff, world.alice)
        tablet.wait_for_selector(".attendance-state.att-present")
        poll, receipt = vote_secretly(tablet, staff, "Bầu Ủy viên Ban Pháp chế (phiếu kín)")
        as_an_older_client_left_it(tablet, poll, world.alice, receipt)
        staff.post(f"/polls/{poll['id']}/close")
        package.seal_meeting(db.session.get(Meeting, world.meeting.id), Actor.system())
        db.session.commit()
        tablet.wait_for_selector("body[data-wiped=true]", timeout=30_000)
        wait_until(lambda: receipt not in stored(tablet), what="the receipt to go")
        assert not re.search(r"hemicycle\.(ballot|receipt)\.", stored(tablet))
        assert script_errors(tablet) == []
    finally:
        context.close()
