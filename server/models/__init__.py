"""Every model, so ``from server.models import Meeting`` works and Alembic sees all tables."""
from server.models.accounts import LoginFailure, LoginSession, User, UserCertificate
from server.models.annotations import Annotation
from server.models.audit import AuditEntry
from server.models.base import (
    AnnotationKind,
    AttendanceStatus,
    Base,
    CommentKind,
    CommentResponse,
    CommentPeriodAudience,
    DeviceKind,
    DocumentAccess,
    MajorityBase,
    MajorityRule,
    MeetingRole,
    MeetingStatus,
    MinutesStatus,
    PollKind,
    PollOptionKind,
    PollStatus,
    QuorumRule,
    Role,
    SessionState,
    SpeakerStatus,
    new_uuid,
    utcnow,
)
from server.models.amendments import Amendment, AmendmentStatus, DraftText
from server.models.devices import Device, PairingCode
from server.models.consultations import Consultation, ConsultationAnswer, ConsultationMember
from server.models.drafts import CommentPeriod, CommentPeriodMember, DraftComment
from server.models.documents import Blob, Document, DocumentPage, DocumentReader, DocumentVersion
from server.models.meetings import AgendaItem, Meeting, MeetingEvent, Participant, SpeakerRequest
from server.models.minutes import Minutes, Signature, SigningSession
from server.models.voting import (
    Ballot, BallotKey, Poll, PollOption, SealedBallot, VoterRecord,
)

__all__ = [name for name in dir() if not name.startswith("_")]
