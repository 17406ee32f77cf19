"""Capacities, objective, explanations and determinism of ``solve``."""

import dataclasses
import json
import random
from datetime import date

import pytest

from app.matching import (
    REASONS,
    Policy,
    RunningMatch,
    ScoreBreakdown,
    Support,
    Weights,
    solve,
    validate,
)
from tests.matching.factories import mentee, mentor, problem, programme, random_problem


def solved(pb):
    result = solve(pb)
    assert validate(pb, result) == []
    return result


def test_mentor_capacity_counts_running_matches():
    mentees = [mentee(f"e{i}", km=i) for i in range(4)]
    assert solved(problem(mentees, [mentor(capacity=3)])).stats.matched == 3
    running = (RunningMatch("old", "m1", "p1", "digital"),)
    assert (
        solved(problem(mentees, [mentor(capacity=3)], running_matches=running)).stats.matched == 2
    )


def test_programme_capacity_counts_running_matches():
    mentees = [mentee(f"e{i}", km=i) for i in range(4)]
    mentors = [mentor(f"m{i}", km=i, capacity=2) for i in range(4)]
    assert solved(problem(mentees, mentors, [programme(capacity=3)])).stats.matched == 3
    running = (RunningMatch("old", "elsewhere", "p1", "digital"),)
    result = solved(problem(mentees, mentors, [programme(capacity=3)], running_matches=running))
    assert result.stats.matched == 2


def test_each_mentee_gets_at_most_one_proposal():
    e = mentee(needs=("orientation", "digital", "employment"))
    result = solved(problem([e], [mentor(f"m{i}", km=i, capacity=5) for i in range(3)]))
    assert len(result.proposals) == 1
    assert result.proposals[0].need == "orientation"  # the most important need first


def test_programme_capacity_binding_across_shared_mentors_is_solved_exactly():
    # Two mentors volunteer with both programmes; p1 is nearly full. The flow relaxation
    # overloads a programme; the engine must re-assign or solve the MIP, still optimal.
    progs = [programme("p1", capacity=1), programme("p2", capacity=1, needs={"digital"})]
    mentors = [
        mentor("m1", capacity=2, programme_ids={"p1", "p2"}),
        mentor("m2", km=1, programme_ids={"p1", "p2"}),
    ]
    mentees = [
        mentee("a", needs=("orientation",)),
        mentee("b", km=1, needs=("orientation", "digital")),
        mentee("c", km=2, needs=("orientation",)),
    ]
    result = solved(problem(mentees, mentors, progs))
    assert result.stats.matched == 2
    assert result.stats.status == "optimal"
    by = {p.mentee_id: p for p in result.proposals}
    assert by["b"].programme_id == "p2"
    assert by["b"].need == "digital"


def distance_only_policy(objective: str) -> Policy:
    zero = {f.name: 0 for f in dataclasses.fields(Weights)}
    return Policy.from_dict(
        {
            "objective": objective,
            "weights": {**zero, "distance": 200},
            "max_candidates_per_mentee": None,
        }
    )


def lexicographic_case(objective: str):
    # Mentee A sits on mentor X (200 points) and is 15 km from Y (80 points);
    # mentee B can only reach X, 19 km away (69 points).
    mentees = [mentee("A", km=0.0), mentee("B", km=19.0, max_travel_km=19.5)]
    mentors = [mentor("X", km=0.0), mentor("Y", km=-15.0)]
    return solved(problem(mentees, mentors, policy=distance_only_policy(objective)))


def test_lexicographic_gives_up_the_best_pair_to_match_one_more():
    result = lexicographic_case("lexicographic")
    pairs = {(p.mentee_id, p.mentor_id) for p in result.proposals}
    assert pairs == {("A", "Y"), ("B", "X")}
    assert result.stats.total_score == 80 + 69


def test_quality_first_keeps_the_best_pair():
    result = lexicographic_case("quality_first")
    assert {(p.mentee_id, p.mentor_id) for p in result.proposals} == {("A", "X")}
    assert result.unmatched[0].mentee_id == "B"
    assert result.unmatched[0].reason == "capacity_exhausted"


def test_priority_decides_who_is_matched_when_not_everyone_can_be():
    mentees = [
        mentee("a", km=0.5),
        mentee("b", km=0.5, qpv=True),
        mentee("c", km=0.5, rural_zone="FRR"),
    ]
    result = solved(problem(mentees, [mentor()]))
    assert [p.mentee_id for p in result.proposals] == ["b"]


def test_score_is_broken_down_by_documented_term():
    e = mentee(needs=("orientation", "digital"), waiting_since=date(2025, 6, 1))
    prop = solved(problem([e], [mentor(km=10.0)])).proposals[0]
    terms = prop.score_terms
    assert terms.need_rank == 40 * 8
    assert terms.distance == 100  # half of 200 at the 10 km half-distance
    assert terms.remote == 0
    assert terms.shared_language == 20
    assert terms.first_support == 150
    assert terms.qpv == 0
    assert terms.rural == 0
    assert terms.waiting == 10 * 3  # 92 days waited
    assert prop.score == sum(dataclasses.astuple(terms))
    assert prop.distance_km == pytest.approx(10.0, abs=0.01)


def test_total_adds_every_term_once():
    n_terms = len(dataclasses.fields(ScoreBreakdown))
    terms = ScoreBreakdown(*(10**i for i in range(n_terms)))
    assert terms.total == int("1" * n_terms)


def test_first_support_term_vanishes_after_any_support():
    e = mentee(needs=("orientation", "digital"))
    old = Support("e1", "digital", date(2020, 1, 1), date(2021, 1, 1))
    prop = solved(problem([e], [mentor()], supports=(old,))).proposals[0]
    assert prop.score_terms.first_support == 0


# Unmatched funnel ---------------------------------------------------------------------


def reason_of(pb, mentee_id="e1"):
    result = solved(pb)
    (u,) = [u for u in result.unmatched if u.mentee_id == mentee_id]
    assert result.stats.unmatched_by_reason[u.reason] >= 1
    assert u.message
    return u


def test_reason_all_needs_supported():
    pb = problem([mentee()], [mentor()], supports=(Support("e1", "orientation", date(2025, 1, 1)),))
    assert reason_of(pb).reason == "all_needs_supported"


def test_reason_no_programme():
    assert reason_of(
        problem([mentee(department="13", commune_insee="13055")], [mentor()])
    ).reason == ("no_programme")
    assert reason_of(problem([mentee(birth_year=1990)], [mentor()])).reason == "no_programme"


def test_reason_no_mentor_in_reach():
    assert reason_of(problem([mentee()], [mentor(km=50)])).reason == "no_mentor_in_reach"
    assert (
        reason_of(problem([mentee()], [mentor(skills={"digital"})])).reason == "no_mentor_in_reach"
    )


def test_reason_no_background_checked_mentor():
    pb = problem([mentee(birth_year=2010)], [mentor(background_check_valid_until=None)])
    assert reason_of(pb).reason == "no_background_checked_mentor"


def test_reason_no_compatible_mentor():
    pb = problem([mentee(languages={"ar"})], [mentor(languages={"en"})])
    assert reason_of(pb).reason == "no_compatible_mentor"


def test_reason_capacity_exhausted_says_how_many():
    pb = problem([mentee("e0", km=0.1), mentee("e1", km=0.2)], [mentor()])
    u = reason_of(pb)
    assert u.reason == "capacity_exhausted"
    assert u.candidates == 1
    # A mentor already full through running matches also counts as taken.
    full = (RunningMatch("old", "m1", "p1", "digital"),)
    u = reason_of(problem([mentee()], [mentor()], running_matches=full))
    assert u.reason == "capacity_exhausted"
    assert u.candidates == 1


def test_every_reason_is_reachable_on_random_instances():
    seen = set()
    for seed in range(40):
        result = solved(random_problem(seed))
        seen |= {u.reason for u in result.unmatched}
    assert seen == set(REASONS)


# Determinism ----------------------------------------------------------------------------


def test_same_input_gives_the_same_bytes_whatever_the_input_order():
    pb = random_problem(7, n_mentees=30, n_mentors=15, policy=Policy())
    first = json.dumps(solve(pb).to_dict(with_timings=False), sort_keys=True, default=str)
    again = json.dumps(solve(pb).to_dict(with_timings=False), sort_keys=True, default=str)
    rng = random.Random(1)
    shuffled = dataclasses.replace(
        pb,
        mentees=tuple(rng.sample(pb.mentees, len(pb.mentees))),
        mentors=tuple(rng.sample(pb.mentors, len(pb.mentors))),
        programmes=tuple(rng.sample(pb.programmes, len(pb.programmes))),
    )
    other = json.dumps(solve(shuffled).to_dict(with_timings=False), sort_keys=True, default=str)
    assert first == again == other


def test_result_is_plain_data():
    result = solve(random_problem(3))
    data = result.to_dict()
    json.dumps(data)  # primitives only
    assert set(data) == {"proposals", "unmatched", "stats", "timings", "changes"}


def test_empty_problem():
    result = solved(problem([], [], []))
    assert result.stats.matched == 0
    assert result.stats.status == "optimal"
