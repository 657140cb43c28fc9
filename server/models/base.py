"""Declarative base, naming convention, shared column types and enums."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, Enum, MetaData, String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_uuid() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no time zones, so values are stored as naive UTC and given
    their zone back when read.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def str_enum(enum_class: type[enum.Enum]) -> Enum:
    """Store an enum as its value in a VARCHAR, the same on SQLite and PostgreSQL."""
    return Enum(
        enum_class,
        native_enum=False,
        length=max(len(m.value) for m in enum_class) + 8,
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict: JSON(),
        list: JSON(),
        str: String(255),
    }


class Role(str, enum.Enum):
    """An account's role in the whole installation."""

    ADMIN = "admin"
    SECRETARY = "secretary"
    CHAIR = "chair"
    DELEGATE = "delegate"
    OBSERVER = "observer"


class MeetingRole(str, enum.Enum):
    """What a participant does in one meeting."""

    CHAIR = "chair"
    SECRETARY = "secretary"
    DELEGATE = "delegate"
    OBSERVER = "observer"


class MeetingStatus(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    IN_SESSION = "in_session"
    CLOSED = "closed"
    SEALED = "sealed"


class SessionState(str, enum.Enum):
    NOT_STARTED = "not_started"
    OPEN = "open"
    PAUSED = "paused"
    ADJOURNED = "adjourned"


class AttendanceStatus(str, enum.Enum):
    ABSENT = "absent"
    PRESENT = "present"
    EXCUSED = "excused"


class QuorumRule(str, enum.Enum):
    """Share of members with a voting right that must be present."""

    NONE = "none"
    MAJORITY = "majority"  # more than half
    TWO_THIRDS = "two_thirds"
    THREE_QUARTERS = "three_quarters"


class DocumentAccess(str, enum.Enum):
    ALL = "all"  # every participant
    NAMED = "named"  # only the participants named on the document
    STAFF = "staff"  # chair and secretaries only


class PollKind(str, enum.Enum):
    NAMED = "named"
    SECRET = "secret"


class PollOptionKind(str, enum.Enum):
    YES_NO_ABSTAIN = "yes_no_abstain"
    CANDIDATES = "candidates"


class MajorityRule(str, enum.Enum):
    SIMPLE = "simple"  # yes > no
    ABSOLUTE = "absolute"  # yes > half of the base
    TWO_THIRDS = "two_thirds"  # yes >= 2/3 of the base
    THREE_QUARTERS = "three_quarters"  # yes >= 3/4 of the base


class MajorityBase(str, enum.Enum):
    CAST = "cast"
    PRESENT = "present"
    MEMBERS = "members"


class PollStatus(str, enum.Enum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class SpeakerStatus(str, enum.Enum):
    WAITING = "waiting"
    SPEAKING = "speaking"
    DONE = "done"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"


class AnnotationKind(str, enum.Enum):
    INK = "ink"
    HIGHLIGHT = "highlight"
    NOTE = "note"


class DeviceKind(str, enum.Enum):
    TABLET = "tablet"
    PROJECTOR = "projector"


class MinutesStatus(str, enum.Enum):
    DRAFT = "draft"
    FINAL = "final"  # text frozen, PDF rendered, awaiting signatures
    SIGNED = "signed"  # chair and secretary have signed


class CommentPeriodAudience(str, enum.Enum):
    """Who may comment on a draft opened for comments."""

    DELEGATES = "delegates"  # every member of the meeting: chair and delegates
    NAMED = "named"  # only the participants named on the comment_period
    STAFF = "staff"  # chair and secretaries only (an internal review)


class CommentKind(str, enum.Enum):
    EDITORIAL = "editorial"  # wording, spelling, presentation
    SUBSTANTIVE = "substantive"  # the content itself
    AGREE = "agree"  # agrees with the section
    DISAGREE = "disagree"  # disagrees with the section


class CommentResponse(str, enum.Enum):
    """The drafting office's answer to a comment (tiếp thu / giải trình / không tiếp thu)."""

    ACCEPTED = "accepted"
    EXPLAINED = "explained"
    NOT_ACCEPTED = "not_accepted"
