"""Counting rules at their edges: ties, exact thresholds, empty polls, weights, abstentions."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from server.models.base import MajorityBase, MajorityRule, QuorumRule
from server.services.voting import tally
from server.services.voting.tally import Attendance, CountedBallot, Rules

SIMPLE, ABSOLUTE = MajorityRule.SIMPLE, MajorityRule.ABSOLUTE
TWO_THIRDS, THREE_QUARTERS = MajorityRule.TWO_THIRDS, MajorityRule.THREE_QUARTERS
CAST, PRESENT, MEMBERS = MajorityBase.CAST, MajorityBase.PRESENT, MajorityBase.MEMBERS


def ballots(yes=(), no=(), abstain=()):
    """Ballots from lists of weights per choice."""
    out = []
    for key, weights in (("yes", yes), ("no", no), ("abstain", abstain)):
        out += [CountedBallot((key,), D(str(w))) for w in weights]
    return out


def room(members=30, present=30, represented=0):
    return Attendance(members_count=members, members_weight=D(members), present_count=present,
                      present_weight=D(present), represented_count=represented,
                      represented_weight=D(represented))


@pytest.mark.parametrize("rule, base, abst_count, cast, attendance, passed, expected_base", [
    # simple: yes > no; ties and empty polls fail; abstentions never matter
    (SIMPLE, CAST, False, ballots([1] * 3, [1] * 2), room(), True, "5"),
    (SIMPLE, CAST, False, ballots([1] * 2, [1] * 2), room(), False, "4"),
    (SIMPLE, CAST, True, ballots([1], [], [1] * 10), room(), True, "11"),
    (SIMPLE, CAST, False, ballots(), room(), False, "0"),
    # weights decide, not heads: 2.5 against 1.25 + 1.25 is a tie
    (SIMPLE, CAST, False, ballots(["2.5"], ["1.25", "1.25"]), room(), False, "5.00"),
    (SIMPLE, CAST, False, ballots(["2.5001"], ["1.25", "1.25"]), room(), True, "5.0001"),
    # absolute: yes > half of the base
    (ABSOLUTE, CAST, False, ballots([1] * 3, [1] * 2, [1]), room(), True, "5"),
    (ABSOLUTE, CAST, True, ballots([1] * 3, [1] * 2, [1]), room(), False, "6"),  # 3 is not > 3
    (ABSOLUTE, CAST, True, ballots([1] * 4, [1] * 2, [1]), room(), True, "7"),
    (ABSOLUTE, CAST, False, ballots(), room(), False, "0"),
    (ABSOLUTE, MEMBERS, False, ballots([1] * 15), room(30), False, "30"),
    (ABSOLUTE, MEMBERS, False, ballots([1] * 16), room(30), True, "30"),
    (ABSOLUTE, PRESENT, False, ballots([1] * 10, [1]), room(30, 20), False, "20"),
    (ABSOLUTE, PRESENT, False, ballots([1] * 11), room(30, 20), True, "20"),
    # present base counts absent members represented by a present proxy holder
    (ABSOLUTE, PRESENT, False, ballots([1] * 11), room(30, 18, 4), False, "22"),
    # two thirds: exactly 2/3 passes, a hair less fails
    (TWO_THIRDS, CAST, False, ballots([1] * 2, [1]), room(), True, "3"),
    (TWO_THIRDS, CAST, False, ballots(["1.9999"], [1]), room(), False, "2.9999"),
    (TWO_THIRDS, CAST, False, ballots([1] * 20, [1] * 10, [1] * 5), room(), True, "30"),
    (TWO_THIRDS, CAST, True, ballots([1] * 20, [1] * 10, [1] * 5), room(), False, "35"),
    (TWO_THIRDS, PRESENT, False, ballots([1] * 7), room(30, 10), True, "10"),
    (TWO_THIRDS, PRESENT, False, ballots([1] * 6), room(30, 10), False, "10"),
    (TWO_THIRDS, MEMBERS, False, ballots([1] * 20), room(30, 25), True, "30"),
    (TWO_THIRDS, MEMBERS, False, ballots([1] * 19, [], [1] * 6), room(30, 25), False, "30"),
    # zero votes: 0 >= 2/3 * 0 must not pass
    (TWO_THIRDS, CAST, False, ballots(), room(), False, "0"),
    (TWO_THIRDS, CAST, True, ballots([], [], [1] * 3), room(), False, "3"),
    # three quarters: exactly 3/4 passes
    (THREE_QUARTERS, CAST, False, ballots([1] * 3, [1]), room(), True, "4"),
    (THREE_QUARTERS, CAST, False, ballots(["2.9999"], [1]), room(), False, "3.9999"),
    (THREE_QUARTERS, CAST, False, ballots(["0.75"], ["0.25"]), room(), True, "1.00"),
    (THREE_QUARTERS, MEMBERS, False, ballots([1] * 22), room(30), False, "30"),
    (THREE_QUARTERS, MEMBERS, False, ballots([1] * 23), room(30), True, "30"),
    (THREE_QUARTERS, MEMBERS, False, ballots(), room(0, 0), False, "0"),
])
def test_motion_rules_at_their_edges(rule, base, abst_count, cast, attendance, passed,
                                     expected_base):
    result = tally.decide_motion(cast, Rules(rule, base, abst_count), attendance)
    assert result["passed"] is passed
    assert result["base"] == expected_base


def test_motion_reports_exact_figures_and_threshold():
    cast = ballots(["1.5", "0.5"], ["1"], ["2"])
    result = tally.decide_motion(cast, Rules(TWO_THIRDS, CAST, True), room())
    assert result["totals"] == {"yes": {"count": 2, "weight": "2.0"},
                                "no": {"count": 1, "weight": "1"},
                                "abstain": {"count": 1, "weight": "2"}}
    assert result["ballots"] == 4 and result["ballots_weight"] == "5.0"
    assert result["threshold"] == "10/3"  # exact, not 3.3333
    assert result["passed"] is False


@pytest.mark.parametrize("rule, present, members, met", [
    (QuorumRule.NONE, "0", "30", True),
    (QuorumRule.MAJORITY, "15", "30", False),  # exactly half is not a majority
    (QuorumRule.MAJORITY, "16", "30", True),
    (QuorumRule.MAJORITY, "15.0001", "30", True),
    (QuorumRule.TWO_THIRDS, "20", "30", True),
    (QuorumRule.TWO_THIRDS, "19.9999", "30", False),
    (QuorumRule.THREE_QUARTERS, "3", "4", True),
    (QuorumRule.THREE_QUARTERS, "2.9999", "4", False),
    (QuorumRule.MAJORITY, "0", "0", False),  # nobody with a voting right: no quorum
])
def test_quorum(rule, present, members, met):
    assert tally.quorum_met(rule, D(present), D(members)) is met


def cand(*choice_lists, weight="1"):
    return [CountedBallot(tuple(c), D(weight)) for c in choice_lists]


@pytest.mark.parametrize("cast, seats, rule, elected, tied, unfilled", [
    (cand("a", "a", "b", "c"), 1, SIMPLE, ["a"], [], 0),
    (cand("a", "b", "c", "c"), 2, SIMPLE, ["c"], ["a", "b"], 1),  # tie across the last seat
    (cand("a", "b"), 1, SIMPLE, [], ["a", "b"], 1),
    (cand("ab", "ab", "c"), 2, SIMPLE, ["a", "b"], [], 0),  # tie inside the seats is fine
    (cand(), 2, SIMPLE, [], [], 2),  # nobody voted
    (cand("a", "a", "b", ""), 1, ABSOLUTE, ["a"], [], 0),  # 2 > 3/2, blank not counted
    (cand("a", "b", "c", ""), 1, ABSOLUTE, [], [], 1),  # nobody has more than half
    (cand("", "", ""), 1, SIMPLE, [], [], 1),  # all blank
])
def test_elections(cast, seats, rule, elected, tied, unfilled):
    result = tally.elect(cast, ["a", "b", "c"], seats, Rules(rule, CAST, False), room())
    assert (result["elected"], result["tied"], result["unfilled"]) == (elected, tied, unfilled)


def test_election_blank_ballots_join_the_cast_base_when_abstentions_count():
    cast = cand("a", "a", "b", "", "")
    counted = tally.elect(cast, ["a", "b"], 1, Rules(ABSOLUTE, CAST, True), room())
    not_counted = tally.elect(cast, ["a", "b"], 1, Rules(ABSOLUTE, CAST, False), room())
    assert counted["base"] == "5" and counted["elected"] == []  # 2 is not > 5/2
    assert not_counted["base"] == "3" and not_counted["elected"] == ["a"]


def test_election_ranks_by_weight_not_by_heads():
    cast = cand("a", "a", "a") + cand("b", weight="3.5")
    result = tally.elect(cast, ["a", "b"], 1, Rules(SIMPLE, CAST, False), room())
    assert result["elected"] == ["b"]
    assert result["totals"]["a"] == {"count": 3, "weight": "3"}
    assert result["totals"]["b"] == {"count": 1, "weight": "3.5"}
