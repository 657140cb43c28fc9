"""REST endpoints: polls — manage (chair), cast ballots (delegates), progress and results."""
from __future__ import annotations

from flask import Response, jsonify

from server.api.blueprint import bp
from server.api.spec import endpoint
from server.auth import current_actor
from server.errors import NotAuthenticated
from server.extensions import db
from server.schemas.voting import (
    BallotIn, BallotOut, PollCreate, PollOut, PollUpdate, ProgressOut, PublishIn, ResultOut,
    VotingStatusOut,
)
from server.services.voting import ballot_queue, ballots, export, lookup, polls as voting
from server.services.voting import results as poll_results
from server.services.voting.closing import find_poll
from server.services.access import Permission

MANAGERS = "the meeting's chair, admins and secretaries"
VOTERS = "a present participant with a voting right (paired tablet or logged-in user)"
RESULT_READERS = "staff once the poll is closed; every participant once it is published"


def _poll(poll, status: int = 200) -> tuple:
    db.session.commit()  # the change, or a read that closed a poll past its time
    return jsonify(PollOut.model_validate(lookup.poll_view(poll)).model_dump(mode="json")), status


@bp.get("/meetings/<int:meeting_id>/polls")
@endpoint("List a meeting's polls", tag="polls", response=list[PollOut], errors=(404,),
          auth="anyone who can see the meeting; drafts only for " + MANAGERS)
def list_polls(meeting_id: int):
    polls = voting.list_polls(current_actor(), meeting_id)
    db.session.commit()
    return jsonify([PollOut.model_validate(lookup.poll_view(p)).model_dump(mode="json")
                    for p in polls])


@bp.post("/meetings/<int:meeting_id>/polls")
@endpoint("Create a draft poll", tag="polls", body=PollCreate, response=PollOut, status=201,
          errors=(404,), auth=MANAGERS)
def create_poll(meeting_id: int, body: PollCreate):
    poll = voting.create_poll(current_actor(), meeting_id, body.service_fields(), body.candidates)
    return _poll(poll, 201)


@bp.get("/polls/<int:poll_id>")
@endpoint("Read a poll (never its result)", tag="polls", response=PollOut, errors=(404,),
          auth="anyone who can see the meeting; drafts only for " + MANAGERS)
def get_poll(poll_id: int):
    poll, _meeting = find_poll(poll_id, current_actor(), Permission.VIEW)
    return _poll(poll)


@bp.patch("/polls/<int:poll_id>")
@endpoint("Edit a draft poll; fields left out are unchanged", tag="polls", body=PollUpdate,
          response=PollOut, errors=(404, 409), auth=MANAGERS + "; drafts only")
def update_poll(poll_id: int, body: PollUpdate):
    poll = voting.update_poll(current_actor(), poll_id, body.service_fields(), body.candidates)
    return _poll(poll)


def _transition(name: str, summary: str):
    def view(poll_id: int):
        poll = getattr(voting, f"{name}_poll")(current_actor(), poll_id)
        return _poll(poll)

    view.__name__ = f"{name}_poll"
    bp.post(f"/polls/<int:poll_id>/{name}")(
        endpoint(summary, tag="polls", response=PollOut, errors=(404, 409), auth=MANAGERS)(view))


_transition("open", "Open a draft poll for ballots (again: no change)")
_transition("close", "Close an open poll and count it (again: no change)")
_transition("cancel", "Cancel a draft or open poll")


@bp.post("/polls/<int:poll_id>/publish")
@endpoint("Publish a closed poll's result and record its decision", tag="polls", body=PublishIn,
          response=PollOut, errors=(404, 409), auth=MANAGERS)
def publish_poll(poll_id: int, body: PublishIn):
    poll = voting.publish_poll(current_actor(), poll_id, body.decision)
    return _poll(poll)


@bp.post("/polls/<int:poll_id>/revote")
@endpoint("Start a new draft poll repeating a finished one", tag="polls", response=PollOut,
          status=201, errors=(404, 409), auth=MANAGERS)
def revote(poll_id: int):
    poll = voting.revote(current_actor(), poll_id)
    return _poll(poll, 201)


@bp.post("/polls/<int:poll_id>/ballots")
@endpoint("Cast a ballot; resending the same ballot_id returns the same answer", tag="polls",
          body=BallotIn, response=BallotOut, errors=(404, 409), auth=VOTERS)
def cast_ballot(poll_id: int, body: BallotIn):
    actor = current_actor()
    if actor is None:
        raise NotAuthenticated("Log in first.")
    answer, _revision = ballot_queue.submit(ballot_queue.Request(
        ballot_queue.Voter.of(actor), poll_id, body.ballot_id, body.choices, body.on_behalf_of))
    return jsonify(BallotOut.model_validate(answer).model_dump(mode="json"))


@bp.get("/polls/<int:poll_id>/me")
@endpoint("My voting status: my own ballot and each proxy I hold", tag="polls",
          response=VotingStatusOut, errors=(404,), auth="participants")
def my_status(poll_id: int):
    status = ballots.voting_status(current_actor(), poll_id)
    db.session.commit()
    return jsonify(VotingStatusOut.model_validate(status).model_dump(mode="json"))


@bp.get("/polls/<int:poll_id>/progress")
@endpoint("Ballots in, and for named polls who has not voted", tag="polls", response=ProgressOut,
          errors=(404,), auth="the chair and the secretaries")
def progress(poll_id: int):
    figures = voting.staff_progress(current_actor(), poll_id)
    db.session.commit()
    return jsonify(ProgressOut.model_validate(figures).model_dump(mode="json", exclude_none=True))


def _result(poll_id: int):
    poll, meeting = find_poll(poll_id, current_actor(), Permission.VIEW)
    db.session.commit()
    return poll, poll_results.visible_result(current_actor(), poll, meeting)


@bp.get("/polls/<int:poll_id>/result")
@endpoint("The result, with every ballot (by name, or by receipt when secret)", tag="polls",
          response=ResultOut, errors=(404,), auth=RESULT_READERS)
def result(poll_id: int):
    _poll_row, stored = _result(poll_id)
    return jsonify(stored)


def _download(poll_id: int, kind: str, mimetype: str):
    poll, _result_dict = _result(poll_id)
    render = getattr(export, f"to_{kind}")
    return Response(render(poll), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="poll-{poll.id}-result.{kind}"'})


@bp.get("/polls/<int:poll_id>/result.json")
@endpoint("The result as a JSON file, with the poll's options", tag="polls", errors=(404,),
          auth=RESULT_READERS, response_content_type="application/json")
def result_json(poll_id: int):
    return _download(poll_id, "json", "application/json")


@bp.get("/polls/<int:poll_id>/result.csv")
@endpoint("The result as CSV (UTF-8)", tag="polls", errors=(404,), auth=RESULT_READERS,
          response_content_type="text/csv")
def result_csv(poll_id: int):
    return _download(poll_id, "csv", "text/csv; charset=utf-8")


@bp.get("/polls/<int:poll_id>/result.pdf")
@endpoint("The result as PDF", tag="polls", errors=(404,), auth=RESULT_READERS,
          response_content_type="application/pdf")
def result_pdf(poll_id: int):
    return _download(poll_id, "pdf", "application/pdf")
