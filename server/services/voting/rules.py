"""A poll's rules: the fields a draft may change, checked together, and its options."""
from __future__ import annotations

from server.errors import InvalidInput
from server.extensions import db
from server.models import AgendaItem, Meeting, Poll, PollKind, PollOption, PollOptionKind

MOTION_OPTIONS = (("yes", "Tán thành"), ("no", "Không tán thành"), ("abstain", "Không biểu quyết"))
RULE_FIELDS = ("motion", "agenda_item_id", "kind", "option_kind", "min_choices", "max_choices",
               "majority", "majority_base", "abstentions_count", "quorum_required",
               "allow_change", "duration_seconds")


def check_rules(meeting: Meeting, values: dict, candidates: list[str] | None) -> list[tuple]:
    """Validate the rule fields together; answer the options the poll will have."""
    item_id = values.get("agenda_item_id")
    if item_id is not None:
        item = db.session.get(AgendaItem, item_id)
        if item is None or item.meeting_id != meeting.id:
            raise InvalidInput("No such agenda item in this meeting.",
                               fields={"agenda_item_id": "unknown agenda item"})
    if values["kind"] == PollKind.SECRET and values["allow_change"]:
        raise InvalidInput(
            "A secret ballot cannot be changed: nothing links it to its voter any more.",
            fields={"allow_change": "only for named polls"})
    if values["option_kind"] == PollOptionKind.YES_NO_ABSTAIN:
        if candidates:
            raise InvalidInput("A yes/no poll has no candidates.",
                               fields={"candidates": "not allowed"})
        values["min_choices"] = values["max_choices"] = 1
        return list(MOTION_OPTIONS)
    if not candidates:
        raise InvalidInput("Name at least one candidate.", fields={"candidates": "required"})
    if len(set(candidates)) != len(candidates):
        raise InvalidInput("A candidate is named twice.", fields={"candidates": "duplicate names"})
    low, high = values["min_choices"], values["max_choices"]
    if not 0 <= low <= high <= len(candidates) or high < 1:
        raise InvalidInput("Choices must satisfy 0 ≤ min ≤ max ≤ number of candidates, max ≥ 1.",
                           fields={"max_choices": "out of range"})
    return [(f"c{n}", name) for n, name in enumerate(candidates, start=1)]


def apply_rules(poll: Poll, meeting: Meeting, values: dict, candidates: list[str] | None) -> None:
    options = check_rules(meeting, values, candidates)
    for name in RULE_FIELDS:
        setattr(poll, name, values[name])
    if [(o.key, o.label) for o in poll.options] != options:
        poll.options = [PollOption(position=n, key=k, label=label)
                        for n, (k, label) in enumerate(options)]
