"""A delegate's annotations on document pages, as vectors in page-relative coordinates."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import AnnotationKind, Base, str_enum, utcnow


class Annotation(Base):
    __tablename__ = "annotation"

    # Chosen by the client, so an offline queue can be replayed without duplicates.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("document_version.id", ondelete="CASCADE"), index=True
    )
    page_number: Mapped[int]
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AnnotationKind] = mapped_column(str_enum(AnnotationKind))
    shared: Mapped[bool] = mapped_column(default=False)
    # {"points": [[x, y], ...], "color": "#rrggbb", "width": 0.004, "text": "..."}
    # with x and y in 0..1 of the page's width and height.
    data: Mapped[dict]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None]
    # Set when the annotation was carried over from an earlier version's page.
    carried_from_id: Mapped[str | None] = mapped_column(String(36))
