"""Written consultations as plain forms: bad input changes nothing, a final answer stays final."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import Consultation, ConsultationAnswer, Role
from tests import factories
from tests.api.test_consultations_api import _login
from tests.web.test_drafts_pages import csrf

GOOD = {"title": "Xin ý kiến", "question": "Đồng ý?", "closes_at": "2099-01-01T08:00",
        "majority": "absolute", "base": "members"}


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("change, field", [
    ({"title": ""}, "title"),
    ({"closes_at": "tomorrow"}, "closes_at"),
    ({"closes_at": "2001-01-01T08:00"}, "closes_at"),
    ({"members": []}, "members"),
    ({"weight": "-2"}, "members"),
    ({"majority": "most"}, "majority"),
])
def test_a_bad_form_sends_nothing(client, change, field):
    office = factories.make_user(Role.SECRETARY)
    member = factories.make_user()
    _login(client, office)
    token = csrf(client.get("/consultations/new").get_data(as_text=True))
    form = {**GOOD, "csrf_token": token, "members": [str(member.id)],
            f"weight_{member.id}": change.pop("weight", "1"), **change}
    before = _count(Consultation)
    sent = client.post("/consultations/new", data=form)
    assert sent.status_code == 422
    assert _count(Consultation) == before
    assert f'id="{field}-error"' in sent.get_data(as_text=True)


def test_sent_answered_once_where_changing_is_not_allowed(client):
    office = factories.make_user(Role.SECRETARY)
    member = factories.make_user()
    _login(client, office)
    token = csrf(client.get("/consultations/new").get_data(as_text=True))
    sent = client.post("/consultations/new", data={
        **GOOD, "csrf_token": token, "members": [str(member.id)], f"weight_{member.id}": "2.5"})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:500]
    cid = int(sent.headers["Location"].rstrip("/").split("/")[-1])
    consultation = db.session.get(Consultation, cid)
    assert consultation.allow_change is False  # the box was not ticked
    assert consultation.members[0].weight == 2.5

    _login(client, member)
    page = client.get(f"/consultations/{cid}").get_data(as_text=True)
    assert "answered_by" not in page and "Who has answered" not in page
    token = csrf(page)
    ok = client.post(f"/consultations/{cid}/answer", data={"csrf_token": token, "choice": "no"})
    assert ok.status_code == 302
    again = client.post(f"/consultations/{cid}/answer", data={"csrf_token": token,
                                                               "choice": "yes"})
    assert again.status_code == 422
    db.session.expire_all()
    assert [a.choice for a in db.session.scalars(select(ConsultationAnswer).where(
        ConsultationAnswer.consultation_id == cid))] == ["no"]
