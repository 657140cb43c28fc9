"""REST endpoints: draft texts with line numbers, amendments, their votes, the adopted text."""
from __future__ import annotations

from flask import jsonify
from pydantic import BaseModel, ConfigDict

from server.api.blueprint import bp
from server.api.spec import endpoint
from server.auth import current_actor
from server.errors import NotAuthenticated
from server.extensions import db
from server.schemas.amendments import AdmitIn, AmendmentIn, DraftTextIn, QueueIn, VoteIn
from server.schemas.voting import PollOut
from server.services.amendments import adoption, tabling, texts, views
from server.services.voting import lookup

SEERS = "anyone who may see or watch the meeting (participants, staff, its projector)"
PREPARERS = "the meeting's secretaries, secretary and admin accounts"
MEMBERS = "a member of the meeting (its chair or a delegate, by account or paired tablet)"
MOVER = "the member who tabled the amendment"
RUNNERS = "the chair and the secretaries of the meeting, secretary and admin accounts"
CHAIRS = "the chair, secretary and admin accounts (who manage polls)"


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class AmendmentOut(Loose):
    id: int
    draft_id: int
    number: int
    tabled_by_id: int
    line_from: int
    line_to: int
    old_text: str
    new_text: str
    reasons: str
    status: str
    decision_reason: str
    position: int | None
    poll_id: int | None
    outcome: str | None
    diff: list[dict]


class DraftTextOut(Loose):
    id: int
    meeting_id: int
    agenda_item_id: int | None
    title: str
    lines: list[dict]
    amendments: list[AmendmentOut]
    under_vote_id: int | None
    adopted: dict
    final_poll_id: int | None
    outcome: str


def _actor():
    actor = current_actor()
    if actor is None:
        raise NotAuthenticated("Log in first, or send the tablet's device token.")
    return actor


def _draft(draft) -> dict:
    return DraftTextOut.model_validate(views.draft_payload(draft)).model_dump()


def _amendment(amendment) -> dict:
    return AmendmentOut.model_validate(views.amendment_payload(amendment)).model_dump()


@bp.get("/meetings/<int:meeting_id>/draft-texts")
@endpoint("The meeting's drafts entered as text, with their amendments", tag="amendments",
          response=list[DraftTextOut], errors=(404,), auth=SEERS)
def list_draft_texts(meeting_id: int):
    body = [_draft(d) for d in texts.drafts_of(_actor(), meeting_id)]
    db.session.rollback()
    return jsonify(body)


@bp.post("/meetings/<int:meeting_id>/draft-texts")
@endpoint("Enter a draft as text; its lines are numbered as entered, for good",
          tag="amendments", body=DraftTextIn, response=DraftTextOut, status=201,
          errors=(404, 422), auth=PREPARERS)
def enter_draft_text(meeting_id: int, body: DraftTextIn):
    draft = texts.enter_draft(_actor(), meeting_id, body)
    db.session.commit()
    return jsonify(_draft(draft)), 201


@bp.get("/draft-texts/<int:draft_id>")
@endpoint("A draft text: numbered lines, amendments with their differences, the adopted text",
          tag="amendments", response=DraftTextOut, errors=(404,), auth=SEERS)
def get_draft_text(draft_id: int):
    draft, _meeting = texts.seen_by(_actor(), draft_id)
    body = _draft(draft)
    db.session.rollback()
    return jsonify(body)


@bp.post("/draft-texts/<int:draft_id>/amendments")
@endpoint("Table an amendment to a range of lines: the new text and the reasons",
          tag="amendments", body=AmendmentIn, response=AmendmentOut, status=201,
          errors=(403, 404, 409, 422), auth=MEMBERS)
def table_amendment(draft_id: int, body: AmendmentIn):
    amendment = tabling.table_amendment(_actor(), draft_id, body)
    db.session.commit()
    return jsonify(_amendment(amendment)), 201


@bp.post("/amendments/<int:amendment_id>/withdraw")
@endpoint("Withdraw an amendment, until it is put to the vote", tag="amendments",
          response=AmendmentOut, errors=(403, 404, 409), auth=MOVER)
def withdraw_amendment(amendment_id: int):
    amendment = tabling.withdraw(_actor(), amendment_id)
    db.session.commit()
    return jsonify(_amendment(amendment))


@bp.post("/amendments/<int:amendment_id>/admission")
@endpoint("Admit a tabled amendment to the queue, or not (with a reason)", tag="amendments",
          body=AdmitIn, response=AmendmentOut, errors=(403, 404, 409, 422), auth=RUNNERS)
def admit_amendment(amendment_id: int, body: AdmitIn):
    amendment = tabling.admit(_actor(), amendment_id, body)
    db.session.commit()
    return jsonify(_amendment(amendment))


@bp.put("/draft-texts/<int:draft_id>/queue")
@endpoint("Order the admitted amendments for the vote", tag="amendments", body=QueueIn,
          response=DraftTextOut, errors=(403, 404, 422), auth=RUNNERS)
def queue_amendments(draft_id: int, body: QueueIn):
    tabling.reorder(_actor(), draft_id, body.amendments)
    db.session.commit()
    draft, _meeting = texts.seen_by(_actor(), draft_id)
    return jsonify(_draft(draft))


def _poll(poll) -> tuple:
    return jsonify(PollOut.model_validate(lookup.poll_view(poll)).model_dump(mode="json")), 201


@bp.post("/amendments/<int:amendment_id>/vote")
@endpoint("Put the next admitted amendment to the vote: an ordinary poll (any kind and rule) "
          "linked to it, opened unless open_now is false", tag="amendments", body=VoteIn,
          response=PollOut, status=201, errors=(403, 404, 409, 422), auth=CHAIRS)
def vote_amendment(amendment_id: int, body: VoteIn):
    poll = adoption.put_to_vote(_actor(), amendment_id, body, body.open_now)
    db.session.commit()
    return _poll(poll)


@bp.post("/draft-texts/<int:draft_id>/vote")
@endpoint("Put the draft as a whole, as amended, to the vote once every admitted amendment "
          "is decided", tag="amendments", body=VoteIn, response=PollOut, status=201,
          errors=(403, 404, 409, 422), auth=CHAIRS)
def vote_draft_text(draft_id: int, body: VoteIn):
    poll = adoption.put_draft_to_vote(_actor(), draft_id, body, body.open_now)
    db.session.commit()
    return _poll(poll)
