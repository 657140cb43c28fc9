"""Finding 10 of issue 23: lockout cannot be turned against others.

Five wrong passwords from rotating addresses used to lock the real owner out for 300 s, and
20 wrong PINs disabled PIN pairing for every live code. Now login failures are counted per
(account, address) pair under a ceiling per account and per address that spares an address
the owner logged in from recently; a PIN names its code, and wrong PINs count against that
code only.
"""
from __future__ import annotations

import pytest
import requests
from requests.adapters import HTTPAdapter

from server.services.accounts import accounts
from server.services.devices import devices
from tests import factories
from tests.realtime.clients import USER_AGENT, login
from tests.realtime.conftest import live, seeded  # noqa: F401 (fixtures)

pytestmark = pytest.mark.live


class _From(HTTPAdapter):
    """Connections from one loopback address (Linux routes all of 127/8 to lo)."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def _login(base_url: str, address: str, username: str, password: str) -> int:
    http = requests.Session()
    http.headers["User-Agent"] = USER_AGENT
    http.mount("http://", _From(address))
    return http.post(base_url + "/api/v1/auth/login", timeout=30,
                     json={"username": username, "password": password}).status_code


def test_guesses_from_rotating_addresses_do_not_lock_the_owner_out(live):
    owner = factories.make_user(username="thuky-lockout")
    home = "127.0.0.1"
    assert _login(live.url, home, owner.username, factories.PASSWORD) == 200
    # Twice the per-pair limit, each guess from another address: before, the fifth locked her.
    for n in range(2 * live.app.config["LOGIN_MAX_FAILURES"]):
        assert _login(live.url, f"127.0.1.{n + 1}", owner.username, "wrong guess") == 401
    assert _login(live.url, home, owner.username, factories.PASSWORD) == 200
    # Guesses from one address lock that pair only.
    for _ in range(live.app.config["LOGIN_MAX_FAILURES"]):
        assert _login(live.url, "127.0.2.1", owner.username, "wrong guess") == 401
    assert _login(live.url, "127.0.2.1", owner.username, factories.PASSWORD) == 429
    assert _login(live.url, home, owner.username, factories.PASSWORD) == 200


def test_the_account_ceiling_spares_the_owners_recent_address(live):
    owner = factories.make_user(username="chutoa-lockout")
    home = "127.0.0.1"
    assert _login(live.url, home, owner.username, factories.PASSWORD) == 200
    for n in range(accounts.ACCOUNT_MAX_FAILURES):  # a guessing run spread over addresses
        assert _login(live.url, f"127.0.3.{n + 1}", owner.username, "wrong guess") == 401
    # The ceiling holds for every address she has not logged in from, right password or not...
    assert _login(live.url, "127.0.4.1", owner.username, factories.PASSWORD) == 429
    # ...but she still gets in from where she logged in before.
    assert _login(live.url, home, owner.username, factories.PASSWORD) == 200


def _pair(base_url: str, pin: str) -> int:
    return requests.post(base_url + "/api/v1/pair", json={"pin": pin, "label": "tablet"},
                         timeout=30).status_code


def test_wrong_pins_disable_only_the_code_they_name(live, seeded):
    staff = login(live.url, seeded.secretary_user)  # the server keys the PINs: codes from it
    codes = []
    for person in seeded.delegates[1:4]:
        answer = staff.post(f"{live.url}/api/v1/meetings/{seeded.meeting.id}/participants/"
                            f"{person.id}/pairing-code", timeout=30)
        assert answer.status_code in (200, 201), answer.text
        codes.append(answer.json()["pin"])
    first, target, other = codes
    # The review's run: 20 wrong 6-digit PINs, which disabled every live code. They name no
    # code now, so they count against none: a delegate's PIN still pairs after them.
    for n in range(20):
        assert _pair(live.url, f"{n:06d}") in (404, 422, 429)
    assert _pair(live.url, first) in (200, 201)
    # Guesses naming one code exhaust that code's PIN (its QR code still works)...
    number, _, digits = target.partition("-")
    for n in range(devices.MAX_PIN_FAILURES):
        wrong = f"{number}-{(int(digits) + 1 + n) % 10**6:06d}"
        assert _pair(live.url, wrong) == 404
    assert _pair(live.url, target) == 429
    # ...and no other: the other delegate's tablet pairs with its PIN.
    assert _pair(live.url, other) in (200, 201)
