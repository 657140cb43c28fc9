"""A published meeting ready to run: staff, delegates (one with a paired tablet), an agenda.

Used by the service tests (inside the ``app`` fixture) and by the live socket
tests, which seed the database the server process reads.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from server.extensions import db
from server.models import AgendaItem, Device, Meeting, MeetingRole, MeetingStatus, Participant, Role, User
from server.services.devices import devices
from server.services.actors import Actor
from tests import factories


@dataclass
class Seeded:
    meeting: Meeting
    chair_user: User
    secretary_user: User
    delegate_user: User
    chair: Participant
    secretary: Participant
    delegates: list[Participant]
    items: list[AgendaItem]
    tablet: Device | None = None
    tablet_token: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def chair_actor(self) -> Actor:
        return Actor.of_user(self.chair_user)

    @property
    def secretary_actor(self) -> Actor:
        return Actor.of_user(self.secretary_user)

    @property
    def delegate_actor(self) -> Actor:
        return Actor.of_user(self.delegate_user)


def seed_meeting(*, delegates: int = 4, title: str = "Kỳ họp thứ 12", pair_tablet: bool = True,
                 **meeting_kw) -> Seeded:
    """Chair and delegate 0 log in with accounts; the others take part through tablets only."""
    chair_user = factories.make_user(Role.CHAIR)
    secretary_user = factories.make_user(Role.SECRETARY)
    delegate_user = factories.make_user(Role.DELEGATE)
    meeting = factories.make_meeting(title=title, status=MeetingStatus.PUBLISHED, **meeting_kw)
    chair = factories.make_participant(meeting, user=chair_user, role=MeetingRole.CHAIR)
    secretary = factories.make_participant(meeting, user=secretary_user, role=MeetingRole.SECRETARY,
                                           voting_right=False)
    people = [factories.make_participant(meeting, user=delegate_user)]
    people += [factories.make_participant(meeting) for _ in range(delegates - 1)]
    first = factories.make_item(meeting, "Khai mạc")
    items = [first, factories.make_item(meeting, "Báo cáo kinh tế - xã hội")]
    items.append(factories.make_item(meeting, "Thảo luận tổ", parent=items[1]))
    items.append(factories.make_item(meeting, "Bế mạc"))
    seeded = Seeded(meeting, chair_user, secretary_user, delegate_user, chair, secretary, people,
                    items)
    if pair_tablet:
        seeded.tablet, seeded.tablet_token = pair_device(seeded, people[1])
    return seeded


def pair_device(seeded: Seeded, participant: Participant) -> tuple[Device, str]:
    _, secret, _ = devices.create_pairing_code(seeded.secretary_actor, seeded.meeting.id,
                                               participant.id)
    db.session.commit()
    device, token = devices.pair(code=secret, label="tablet")
    db.session.commit()
    return device, token
