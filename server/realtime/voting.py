"""Socket commands for polls: the chair opens, closes, publishes; tablets cast ballots.

Thin, like every command: the dispatcher (``handlers.on_event``) has checked
the connection and validated the payload; the voting services check the
actor's rights; the dispatcher commits before it acknowledges, so an
acknowledged ballot is a stored ballot.
"""
from __future__ import annotations

from server.errors import NotFound
from server.extensions import db
from server.models import Poll
from server.realtime.commands import command
from server.schemas.voting import BallotCommand, PollCommand, PollPublishCommand
from server.services.voting import ballot_queue, ballots, lookup, polls as voting


def _poll_in_meeting(data: PollCommand) -> Poll:
    poll = db.session.get(Poll, data.poll_id)
    if poll is None or poll.meeting_id != data.meeting_id:
        raise NotFound("No such poll in this meeting.", fields={"poll_id": "unknown poll"})
    return poll


def _in_meeting(data: PollCommand) -> int:
    """The poll id, once it is known to belong to the connection's meeting."""
    return _poll_in_meeting(data).id


def _view(poll: Poll) -> dict:
    return {"poll": lookup.poll_view(poll)}


@command("poll.open", PollCommand)
def open_poll(actor, context, data):
    return _view(voting.open_poll(actor, _in_meeting(data)))


@command("poll.close", PollCommand)
def close_poll(actor, context, data):
    return _view(voting.close_poll(actor, _in_meeting(data)))


@command("poll.cancel", PollCommand)
def cancel_poll(actor, context, data):
    return _view(voting.cancel_poll(actor, _in_meeting(data)))


@command("poll.publish", PollPublishCommand)
def publish_poll(actor, context, data):
    return _view(voting.publish_poll(actor, _in_meeting(data), data.decision))


@command("ballot.cast", BallotCommand, batched=True)
def cast_ballot(_actor, context, data):
    # Cast together with the ballots of other tablets that arrive meanwhile, in one
    # transaction (group commit), which reloads and checks every sender; answered
    # once that transaction is committed.
    voter = ballot_queue.Voter(device_id=context.device_id, user_id=context.user_id,
                               session_epoch=context.session_epoch)
    answer, revision = ballot_queue.submit(ballot_queue.Request(
        voter, data.poll_id, data.ballot_id, data.choices, data.on_behalf_of,
        meeting_id=data.meeting_id))
    return {"ballot": answer, "revision": revision}


# Reading may close a poll past its time, so these commit like changes do.
@command("poll.status", PollCommand)
def my_status(actor, context, data):
    return {"status": ballots.voting_status(actor, _in_meeting(data))}


@command("poll.progress", PollCommand)
def progress(actor, context, data):
    return {"progress": voting.staff_progress(actor, _in_meeting(data))}
