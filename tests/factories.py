"""Test factories: build real rows through the ORM, with sensible defaults."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from argon2 import PasswordHasher

from server.extensions import db
from server.models import (
    AgendaItem, Meeting, MeetingRole, MeetingStatus, Participant, Role, User,
)

_counter = itertools.count(1)
# Cheap parameters: hashing speed is not what these tests are about.
_fast_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse battery staple"


def make_user(role: Role = Role.DELEGATE, *, username: str | None = None,
              full_name: str | None = None, password: str | None = PASSWORD, **kw) -> User:
    n = next(_counter)
    user = User(
        username=username or f"user{n}",
        full_name=full_name or f"Nguyễn Văn {n}",
        role=role,
        password_hash=_fast_hasher.hash(password) if password else None,
        **kw,
    )
    db.session.add(user)
    db.session.commit()
    return user


def make_meeting(*, title: str = "Kỳ họp thứ 12 HĐND tỉnh", status=MeetingStatus.DRAFT,
                 created_by: User | None = None, **kw) -> Meeting:
    kw.setdefault("body", "Hội đồng nhân dân tỉnh Lâm Đồng")
    kw.setdefault("place", "Hội trường A")
    kw.setdefault("starts_at", datetime.now(timezone.utc) + timedelta(days=1))
    meeting = Meeting(title=title, status=status,
                      created_by_id=created_by.id if created_by else None, **kw)
    db.session.add(meeting)
    db.session.commit()
    return meeting


def make_participant(meeting: Meeting, *, user: User | None = None,
                     role: MeetingRole = MeetingRole.DELEGATE, full_name: str | None = None,
                     weight: Decimal | int = 1, voting_right: bool = True, **kw) -> Participant:
    participant = Participant(
        meeting_id=meeting.id,
        user_id=user.id if user else None,
        full_name=full_name or (user.full_name if user else f"Trần Thị {next(_counter)}"),
        role=role, weight=Decimal(weight), voting_right=voting_right, **kw,
    )
    db.session.add(participant)
    db.session.commit()
    return participant


def make_item(meeting: Meeting, title: str = "Báo cáo tình hình kinh tế - xã hội", *,
              parent: AgendaItem | None = None, position: int | None = None, **kw) -> AgendaItem:
    if position is None:
        siblings = [i for i in meeting.agenda_items if i.parent_id == (parent.id if parent else None)]
        position = len(siblings)
    item = AgendaItem(meeting_id=meeting.id, parent_id=parent.id if parent else None,
                      position=position, title=title, **kw)
    db.session.add(item)
    db.session.commit()
    db.session.refresh(meeting)
    return item
