"""Who is asking: a logged-in user, a paired tablet, a projector, or the system."""
from __future__ import annotations

from dataclasses import dataclass

from server.errors import NotAuthenticated
from server.models import Device, Participant, User


@dataclass(frozen=True)
class Actor:
    kind: str  # "user" | "device" | "projector" | "system"
    user: User | None = None
    device: Device | None = None

    @classmethod
    def system(cls) -> "Actor":
        return cls("system")

    @classmethod
    def of_user(cls, user: User) -> "Actor":
        return cls("user", user=user)

    @classmethod
    def of_device(cls, device: Device) -> "Actor":
        return cls("projector" if device.participant_id is None else "device", device=device)

    @property
    def participant(self) -> Participant | None:
        return self.device.participant if self.device is not None else None

    @property
    def audit_name(self) -> str:
        if self.user is not None:
            return f"user:{self.user.id}"
        if self.device is not None:
            return f"{self.kind}:{self.device.id}"
        return "system"


def paired_device(device: Device | None) -> Actor:
    """The actor of a device that is still paired; a revoked or deleted one stops at once."""
    if device is None or device.revoked_at is not None:
        raise NotAuthenticated("This device has been unpaired.", code="revoked")
    return Actor.of_device(device)


def logged_in_user(user: User | None, session_epoch: int | None) -> Actor:
    """The actor of an active user whose login is still the one given (``session_epoch``;
    None when the caller has checked the login session itself)."""
    if user is None or not user.active or session_epoch not in (None, user.session_epoch):
        raise NotAuthenticated("Your session has ended; log in again.")
    return Actor.of_user(user)
