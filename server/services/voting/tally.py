"""Counting rules as pure functions: quorum, majority bases and thresholds, elections.

Weights are Decimals (``Numeric(12, 4)`` columns) and every comparison is made
on exact ``Fraction``s, so "exactly two thirds" is never lost to rounding and
no float ever touches a tally. Nothing here reads the database: the voting
service hands in the ballots and the attendance figures it froze.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from server.models.base import MajorityBase, MajorityRule, QuorumRule

ZERO = Decimal(0)

# Share of the base a motion needs; ABSOLUTE is strict ("more than half"),
# the qualified majorities are inclusive ("at least two thirds").
MAJORITY_SHARE = {
    MajorityRule.ABSOLUTE: (Fraction(1, 2), True),
    MajorityRule.TWO_THIRDS: (Fraction(2, 3), False),
    MajorityRule.THREE_QUARTERS: (Fraction(3, 4), False),
}
# Share of the members with a voting right that must be present.
QUORUM_SHARE = {
    QuorumRule.MAJORITY: (Fraction(1, 2), True),
    QuorumRule.TWO_THIRDS: (Fraction(2, 3), False),
    QuorumRule.THREE_QUARTERS: (Fraction(3, 4), False),
}


@dataclass(frozen=True)
class CountedBallot:
    choices: tuple[str, ...]
    weight: Decimal


@dataclass(frozen=True)
class Attendance:
    """Voting members at one moment: all of them, and those present or represented."""

    members_count: int
    members_weight: Decimal
    present_count: int
    present_weight: Decimal
    represented_count: int = 0  # absent, with a present proxy holder
    represented_weight: Decimal = ZERO

    def as_dict(self) -> dict:
        return {"members_count": self.members_count, "members_weight": str(self.members_weight),
                "present_count": self.present_count, "present_weight": str(self.present_weight),
                "represented_count": self.represented_count,
                "represented_weight": str(self.represented_weight)}


@dataclass(frozen=True)
class Rules:
    majority: MajorityRule
    base: MajorityBase
    abstentions_count: bool


def _meets(value: Fraction, share: Fraction, strict: bool) -> bool:
    return value > share if strict else value >= share


def quorum_met(rule: QuorumRule, present_weight: Decimal, members_weight: Decimal) -> bool:
    """Whether the weight present reaches the rule's share of all voting members."""
    if rule == QuorumRule.NONE:
        return True
    if members_weight <= 0:
        return False
    share, strict = QUORUM_SHARE[rule]
    return _meets(Fraction(present_weight) / Fraction(members_weight), share, strict)


def base_weight(rules: Rules, attendance: Attendance, *, decisive: Decimal,
                abstaining: Decimal) -> Decimal:
    """The weight a majority is measured against.

    ``decisive`` is the weight of ballots that expressed a choice (yes and no,
    or at least one candidate); ``abstaining`` of abstentions or blank ballots,
    which join the "cast" base only when the poll says they count.
    """
    if rules.base == MajorityBase.CAST:
        return decisive + (abstaining if rules.abstentions_count else ZERO)
    if rules.base == MajorityBase.PRESENT:
        return attendance.present_weight + attendance.represented_weight
    return attendance.members_weight


def threshold(rule: MajorityRule, base: Decimal) -> Fraction | None:
    """The exact weight to exceed (absolute) or reach (qualified); None for simple majority."""
    if rule == MajorityRule.SIMPLE:
        return None
    share, _strict = MAJORITY_SHARE[rule]
    return share * Fraction(base)


def reaches(rule: MajorityRule, votes: Decimal, base: Decimal, *, against: Decimal = ZERO) -> bool:
    """Whether ``votes`` carry under ``rule``.

    Simple: more votes for than against. Otherwise a share of a base that
    must be positive: with nobody counted in the base nothing passes, and a
    motion without a single vote for never passes.
    """
    if votes <= 0:
        return False
    if rule == MajorityRule.SIMPLE:
        return votes > against
    if base <= 0:
        return False
    share, strict = MAJORITY_SHARE[rule]
    return _meets(Fraction(votes) / Fraction(base), share, strict)


def count(ballots: Iterable[CountedBallot], keys: Sequence[str]) -> dict[str, dict]:
    """Per option: number of ballots naming it and their total weight."""
    totals = {key: {"count": 0, "weight": ZERO} for key in keys}
    for ballot in ballots:
        for key in ballot.choices:
            totals[key]["count"] += 1
            totals[key]["weight"] += ballot.weight
    return totals


def _fraction_text(value: Fraction | None) -> str | None:
    if value is None:
        return None
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def _figures(totals: dict[str, dict]) -> dict[str, dict]:
    return {k: {"count": v["count"], "weight": str(v["weight"])} for k, v in totals.items()}


def decide_motion(ballots: Sequence[CountedBallot], rules: Rules, attendance: Attendance) -> dict:
    """Yes/no/abstain: whether the motion is adopted, with every figure that decided it."""
    totals = count(ballots, ("yes", "no", "abstain"))
    yes, no, abstain = (totals[k]["weight"] for k in ("yes", "no", "abstain"))
    base = base_weight(rules, attendance, decisive=yes + no, abstaining=abstain)
    return {
        "totals": _figures(totals),
        "ballots": len(ballots),
        "ballots_weight": str(sum((b.weight for b in ballots), ZERO)),
        "base": str(base),
        "threshold": _fraction_text(threshold(rules.majority, base)),
        "passed": reaches(rules.majority, yes, base, against=no),
    }


def elect(ballots: Sequence[CountedBallot], candidates: Sequence[str], seats: int, rules: Rules,
          attendance: Attendance) -> dict:
    """Candidates: the ``seats`` best by weight among those reaching the majority.

    A simple majority only asks for at least one vote. Candidates tied across
    the last seat are all reported in ``tied`` and none of them is elected:
    the meeting decides (usually by a new round); ``unfilled`` counts the
    seats left open.
    """
    totals = count(ballots, candidates)
    decisive = sum((b.weight for b in ballots if b.choices), ZERO)
    blank = sum((b.weight for b in ballots if not b.choices), ZERO)
    base = base_weight(rules, attendance, decisive=decisive, abstaining=blank)
    qualified = [k for k in candidates if reaches(rules.majority, totals[k]["weight"], base)]
    ranked = sorted(qualified, key=lambda k: (-totals[k]["weight"], candidates.index(k)))
    elected: list[str] = []
    tied: list[str] = []
    position = 0
    while position < len(ranked) and len(elected) < seats:
        weight = totals[ranked[position]]["weight"]
        group = [k for k in ranked[position:] if totals[k]["weight"] == weight]
        if len(elected) + len(group) <= seats:
            elected.extend(group)
        else:
            tied = group
            break
        position += len(group)
    return {
        "totals": _figures(totals),
        "ballots": len(ballots),
        "ballots_weight": str(decisive + blank),
        "blank": str(blank),
        "base": str(base),
        "threshold": _fraction_text(threshold(rules.majority, base)),
        "seats": seats,
        "elected": elected,
        "tied": tied,
        "unfilled": seats - len(elected),
    }
