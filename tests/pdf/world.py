"""A published meeting with staff, two delegates, their tablets and a projector."""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from server.extensions import db
from server.models import Device, DeviceKind, Meeting, MeetingRole, MeetingStatus, Participant, Role, User
from server.services.actors import Actor
from server.services.documents.ingest import Upload
from server.services.tokens import new_token, token_digest
from tests import factories


@dataclass
class World:
    secretary: User
    meeting: Meeting
    chair: Participant
    reader: Participant  # delegate named on documents in the tests
    other: Participant  # delegate who is not
    reader_token: str
    other_token: str
    chair_token: str
    projector_token: str

    @property
    def staff(self) -> Actor:
        return Actor.of_user(self.secretary)

    def device(self, participant: Participant | None) -> Actor:
        owner = Device.participant_id.is_(None) if participant is None else (
            Device.participant_id == participant.id)
        device = db.session.scalar(select(Device).where(owner, Device.meeting_id == self.meeting.id))
        return Actor.of_device(device)


def _device(meeting: Meeting, participant: Participant | None) -> str:
    token = new_token()
    db.session.add(Device(meeting_id=meeting.id, participant_id=participant.id if participant else None,
                          kind=DeviceKind.TABLET if participant else DeviceKind.PROJECTOR,
                          token_sha256=token_digest(token)))
    db.session.commit()
    return token


def make_world(secretary: User | None = None) -> World:
    secretary = secretary or factories.make_user(Role.SECRETARY, full_name="Lê Thị Thư Ký")
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED, created_by=secretary)
    chair = factories.make_participant(meeting, role=MeetingRole.CHAIR, full_name="Phạm Văn Chủ Tọa")
    reader = factories.make_participant(meeting, full_name="Nguyễn Thị Hường")
    other = factories.make_participant(meeting, full_name="Trần Văn Bình")
    return World(secretary, meeting, chair, reader, other, _device(meeting, reader),
                 _device(meeting, other), _device(meeting, chair), _device(meeting, None))


def upload_file(tmp_path: Path, data: bytes, filename: str = "Báo cáo.pdf") -> Upload:
    path = tmp_path / f"upload-{len(list(tmp_path.glob('upload-*')))}"
    path.write_bytes(data)
    return Upload(path=path, filename=filename)


def post_file(client, url, data: bytes, filename="Báo cáo tài chính.pdf", headers=None, **fields):
    """A multipart upload, as the secretary's browser or a script sends it."""
    form = {"file": (io.BytesIO(data), filename), **fields}
    return client.post(url, data=form, content_type="multipart/form-data", headers=headers or {})
