"""Every authorisation decision comes from access.permissions(): one table, tested here."""
from __future__ import annotations

import pytest

from server.errors import Forbidden, NotAuthenticated, NotFound
from server.models import Device, DeviceKind, MeetingRole, MeetingStatus, Role
from server.extensions import db
from server.services.access import Permission as P, get_meeting, permissions, require
from server.services.actors import Actor
from tests.factories import make_meeting, make_participant, make_user

ALL = set(P)


def _actor_for(kind: str, meeting, other_meeting):
    if kind in ("admin", "secretary_account"):
        role = Role.ADMIN if kind == "admin" else Role.SECRETARY
        return Actor.of_user(make_user(role))
    if kind == "outsider":
        return Actor.of_user(make_user(Role.DELEGATE))
    if kind == "projector":
        device = Device(meeting_id=meeting.id, kind=DeviceKind.PROJECTOR, token_sha256="p" * 64)
        db.session.add(device)
        db.session.commit()
        return Actor.of_device(device)
    if kind == "tablet_other_meeting":
        participant = make_participant(other_meeting)
        device = Device(meeting_id=other_meeting.id, participant_id=participant.id, token_sha256="t" * 64)
        db.session.add(device)
        db.session.commit()
        return Actor.of_device(device)
    if kind == "tablet_delegate":
        participant = make_participant(meeting, role=MeetingRole.DELEGATE)
        device = Device(meeting_id=meeting.id, participant_id=participant.id, token_sha256="d" * 64)
        db.session.add(device)
        db.session.commit()
        return Actor.of_device(device)
    role = {"chair": MeetingRole.CHAIR, "meeting_secretary": MeetingRole.SECRETARY,
            "delegate": MeetingRole.DELEGATE, "observer": MeetingRole.OBSERVER,
            "delegate_no_vote": MeetingRole.DELEGATE}[kind]
    user = make_user(Role.DELEGATE if role != MeetingRole.CHAIR else Role.CHAIR)
    make_participant(meeting, user=user, role=role, voting_right=kind != "delegate_no_vote")
    return Actor.of_user(user)


STAFF = {P.VIEW, P.WATCH, P.PREPARE, P.RUN, P.CHAIR, P.STAFF_VIEW}
EXPECTED_PUBLISHED = {
    "admin": STAFF,
    "secretary_account": STAFF,
    "chair": {P.VIEW, P.WATCH, P.RUN, P.CHAIR, P.SPEAK, P.STAFF_VIEW, P.VOTE},
    "meeting_secretary": {P.VIEW, P.WATCH, P.PREPARE, P.RUN, P.STAFF_VIEW},
    "delegate": {P.VIEW, P.WATCH, P.SPEAK, P.VOTE},
    "delegate_no_vote": {P.VIEW, P.WATCH, P.SPEAK},
    "tablet_delegate": {P.VIEW, P.WATCH, P.SPEAK, P.VOTE},
    "observer": {P.VIEW, P.WATCH},
    "projector": {P.WATCH},
    "outsider": set(),
    "tablet_other_meeting": set(),
}


@pytest.mark.parametrize("kind", sorted(EXPECTED_PUBLISHED))
def test_permissions_in_a_published_meeting(app, kind):
    meeting = make_meeting(status=MeetingStatus.PUBLISHED)
    other = make_meeting(status=MeetingStatus.PUBLISHED)
    actor = _actor_for(kind, meeting, other)
    assert permissions(actor, meeting) == EXPECTED_PUBLISHED[kind]


@pytest.mark.parametrize("kind", ["chair", "delegate", "observer", "projector", "tablet_delegate"])
def test_a_draft_is_hidden_from_everyone_but_its_preparers(app, kind):
    meeting = make_meeting(status=MeetingStatus.DRAFT)
    actor = _actor_for(kind, meeting, make_meeting())
    if kind == "projector":
        # A projector of a draft meeting still only watches; nothing to prepare.
        assert permissions(actor, meeting) <= {P.WATCH}
        return
    assert permissions(actor, meeting) == set()
    with pytest.raises(NotFound):
        require(actor, meeting, P.VIEW)


@pytest.mark.parametrize("kind", ["admin", "chair", "delegate"])
def test_a_sealed_meeting_is_read_only(app, kind):
    meeting = make_meeting(status=MeetingStatus.SEALED)
    actor = _actor_for(kind, meeting, make_meeting())
    assert permissions(actor, meeting) <= {P.VIEW, P.WATCH, P.STAFF_VIEW}
    with pytest.raises(Forbidden) as refused:
        require(actor, meeting, P.VOTE if kind == "delegate" else P.PREPARE)
    assert refused.value.code == "sealed"


def test_revoked_projector_sees_nothing(app):
    from server.models import utcnow

    meeting = make_meeting(status=MeetingStatus.PUBLISHED)
    actor = _actor_for("projector", meeting, make_meeting())
    actor.device.revoked_at = utcnow()
    assert permissions(actor, meeting) == set()


def test_anonymous_and_unknown_meetings(app):
    meeting = make_meeting(status=MeetingStatus.PUBLISHED)
    with pytest.raises(NotAuthenticated):
        require(None, meeting, P.VIEW)
    with pytest.raises(NotAuthenticated):
        get_meeting(9999, None, P.VIEW)
    with pytest.raises(NotFound):
        get_meeting(9999, Actor.of_user(make_user(Role.ADMIN)), P.VIEW)


def test_a_delegate_cannot_chair(app):
    meeting = make_meeting(status=MeetingStatus.PUBLISHED)
    actor = _actor_for("delegate", meeting, make_meeting())
    with pytest.raises(Forbidden):
        require(actor, meeting, P.CHAIR)
