"""What socket clients send, and the device/pairing bodies of the REST API.

Every socket command carries the meeting it is about (which must be the
meeting of the connection). Unknown fields are refused: a misspelt field is an
error, not a silent no-op.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from server.models import AttendanceStatus
from server.schemas.types import Id

MAX_REVISION = 2**62


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    meeting_id: Id


class Sync(Command):
    """Catch up: the events after ``since_revision`` this client may see, or a snapshot."""

    since_revision: Annotated[int, Field(ge=0, le=MAX_REVISION)] | None = None


class ItemSet(Command):
    item_id: Id


class TimerCommand(Command):
    item_id: Id | None = None  # the current item by default


class AttendanceMark(Command):
    participant_id: Id
    status: AttendanceStatus
    excuse: Annotated[str, StringConstraints(max_length=500)] = ""


class DoorCheckIn(Command):
    door_token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class FloorGrant(Command):
    request_id: Id
    # None: the meeting's default; 0: no limit.
    time_limit_seconds: Annotated[int, Field(ge=0, le=4 * 3600)] | None = None


class FloorRequestId(Command):
    request_id: Id


class FloorReorder(Command):
    request_ids: Annotated[list[Id], Field(max_length=1000)]


class DeviceStatus(Command):
    """What a tablet's browser says about itself; null when it cannot tell."""

    battery: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False, strict=True)] | None = None
    charging: Annotated[bool, Field(strict=True)] | None = None
    connection: Annotated[str, StringConstraints(max_length=32,
                                                 pattern=r"^[A-Za-z0-9 ._-]*$")] | None = None


# REST bodies and answers -------------------------------------------------------------

class PairingCodeOut(BaseModel):
    pairing_code_id: int
    participant_id: int
    code: str = Field(description="Secret for the QR link; shown once.")
    pin: str = Field(description="PIN to type instead, naming its code: `<code number>-<6 "
                                 "digits>`, e.g. `27-482913`; shown once.")
    expires_at: datetime
    pair_path: str = Field(description="Path the QR code points the tablet to.")


class PairIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: Annotated[str, StringConstraints(min_length=16, max_length=100)] | None = None
    # The code's number, then its 6 secret digits (the dash may be left out).
    pin: Annotated[str, StringConstraints(max_length=17, pattern=r"^[0-9]{1,10}-?[0-9]{6}$")] \
        | None = None
    label: Annotated[str, StringConstraints(max_length=200)] = ""

    @model_validator(mode="after")
    def _one_of(self):
        if (self.code is None) == (self.pin is None):
            raise ValueError("give either code or pin")
        return self


class DeviceOut(BaseModel):
    device_id: int
    meeting_id: int
    kind: Literal["tablet", "projector"]
    participant_id: int | None
    label: str
    paired_at: str | None
    last_seen_at: str | None
    online: bool
    revoked_at: str | None
    wipe_requested_at: str | None = None
    wiped_at: str | None = None


class DeviceTokenOut(BaseModel):
    device: DeviceOut
    token: str = Field(description="Bearer token for the device; shown once, store it.")


class ProjectorIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    label: Annotated[str, StringConstraints(max_length=200)] = ""


class DoorTokenOut(BaseModel):
    meeting_id: int
    token: str = Field(description="Put in the door QR code; shown once. A new one replaces it.")


class CheckInIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    door_token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class AttendanceOut(BaseModel):
    participant_id: int
    status: str
    method: str | None
    checked_in_at: str | None
    excuse: str
