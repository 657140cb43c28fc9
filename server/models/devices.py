"""Tablets paired to a participant, projectors, and one-time pairing codes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, DeviceKind, str_enum, utcnow
from server.models.meetings import Participant


class Device(Base):
    """A paired tablet (bound to a participant) or a read-only projector display.

    Only a hash of the bearer token is stored.
    """

    __tablename__ = "device"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DeviceKind] = mapped_column(str_enum(DeviceKind), default=DeviceKind.TABLET)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    paired_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    # Open Socket.IO connections (all workers): the tablet is online while > 0.
    connections: Mapped[int] = mapped_column(default=0)
    # Reported by the browser when it can: {"battery": 0.8, "charging": true, "connection": "wifi"}
    status: Mapped[dict | None]
    revoked_at: Mapped[datetime | None]
    wipe_requested_at: Mapped[datetime | None]
    wiped_at: Mapped[datetime | None]

    participant: Mapped[Participant | None] = relationship()


class PairingCode(Base):
    """A one-time, expiring code (QR link or short PIN) that pairs a tablet."""

    __tablename__ = "pairing_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    pin_sha256: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    failed_attempts: Mapped[int] = mapped_column(default=0)
