"""Who is asking: a logged-in user, a paired tablet, a projector, or the system."""
from __future__ import annotations

from dataclasses import dataclass

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
