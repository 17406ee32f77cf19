"""Stable rematches: current pairs are proposed again unless a change is forced, gains
coverage, or gains more score than the stability threshold; each change says why."""

import dataclasses
import random

import pytest

from app.matching import CHANGE_REASONS, CurrentPair, Policy, solve, validate
from tests.matching.adversarial import saturated_problem
from tests.matching.factories import mentee, mentor, problem, random_problem
from tests.matching.reference import most_pairs_kept


def pairs(result, accepted=False):
    return tuple(
        CurrentPair(p.mentee_id, p.mentor_id, p.programme_id, p.need, accepted)
        for p in result.proposals
    )


def rematch(pb, current, **policy):
    pb = dataclasses.replace(
        pb, current_pairs=current, policy=dataclasses.replace(pb.policy, **policy)
    )
    result = solve(pb)
    assert validate(pb, result) == []
    return pb, result


@pytest.mark.parametrize("seed", range(20))
def test_unchanged_data_changes_nothing(seed):
    pb = saturated_problem(seed) if seed % 2 else random_problem(seed, policy=Policy())
    first = solve(pb)
    _, again = rematch(pb, pairs(first))
    assert again.changes == ()
    assert again.stats.current_pairs_kept == len(first.proposals)
    assert again.proposals == first.proposals
    assert again.stats.stability_bonus == 101 * len(first.proposals)
    assert again.stats.total_score == first.stats.total_score


def _changed(pb, seed):
    """``pb`` after a random small change: a young person leaves, one volunteer's
    capacity changes, or new young people arrive."""
    rng = random.Random(seed)
    kind = seed % 3
    if kind == 0 and pb.mentees:
        gone = rng.choice(pb.mentees).id
        return dataclasses.replace(pb, mentees=tuple(m for m in pb.mentees if m.id != gone))
    if kind == 1:
        i = rng.randrange(len(pb.mentors))
        m = pb.mentors[i]
        new = dataclasses.replace(m, capacity=max(1, min(5, m.capacity + rng.choice([-1, 1]))))
        return dataclasses.replace(pb, mentors=(*pb.mentors[:i], new, *pb.mentors[i + 1 :]))
    extra = random_problem(seed + 1000, n_mentees=3, n_mentors=2).mentees
    fresh = tuple(dataclasses.replace(m, id=f"new-{m.id}") for m in extra)
    return dataclasses.replace(pb, mentees=pb.mentees + fresh)


@pytest.mark.parametrize("seed", range(60))
def test_churn_is_the_minimum_the_change_forces(seed):
    # Accepted pairs weigh 2 × 1000 points: more than any one pair's score, so the
    # rematch changes only what coverage forces — the fewest changes possible, found
    # here by an exact solver over every option.
    base = random_problem(seed, n_mentees=14, n_mentors=8, policy=Policy())
    first = solve(base)
    pb, result = rematch(_changed(base, seed), pairs(first, accepted=True), stability=1000)
    best_count, most_kept = most_pairs_kept(pb)
    assert result.stats.matched == best_count
    assert result.stats.current_pairs_kept == most_kept
    assert len(result.changes) == len(first.proposals) - most_kept
    assert all(c.reason in CHANGE_REASONS for c in result.changes)


def test_one_young_person_leaving_changes_only_their_pair():
    mentees = [mentee(f"e{i}", km=i) for i in range(4)]
    mentors = [mentor(f"m{i}", km=i + 0.5) for i in range(4)]
    pb = problem(mentees, mentors, policy=Policy())
    first = solve(pb)
    assert first.stats.matched == 4
    pb2 = dataclasses.replace(pb, mentees=tuple(mentees[1:]))
    _, again = rematch(pb2, pairs(first))
    assert [(c.mentee_id, c.reason) for c in again.changes] == [("e0", "no_longer_feasible")]
    assert again.stats.current_pairs_kept == 3


def test_a_change_for_coverage_says_so():
    # e0 holds m0, the only mentor e1 can reach; m1 can take e0 instead: one more match.
    mentees = [mentee("e0", km=0), mentee("e1", km=-15, max_travel_km=16)]
    mentors = [mentor("m0", km=0), mentor("m1", km=10)]
    pb = problem(mentees, mentors, policy=Policy())
    current = (CurrentPair("e0", "m0", "p1", "orientation", accepted=True),)
    _, result = rematch(pb, current)
    assert result.stats.matched == 2
    assert [(c.mentee_id, c.reason, c.mentor_id_now) for c in result.changes] == [
        ("e0", "coverage_gained", "m1")
    ]


def test_score_changes_only_beyond_the_threshold():
    # e0 currently with m1 at 10 km; m0 at 0 km scores 100 more (200 vs 100 distance
    # points): kept under a threshold of 100 or more (a gain of exactly the threshold
    # is not enough), changed for score below it.
    pb = problem([mentee("e0")], [mentor("m0", km=0), mentor("m1", km=10)], policy=Policy())
    current = (CurrentPair("e0", "m1", "p1", "orientation"),)
    _, kept = rematch(pb, current, stability=100)
    assert kept.changes == ()
    _, moved = rematch(pb, current, stability=99)
    assert [(c.reason, c.mentor_id_now) for c in moved.changes] == [("score_gained", "m0")]


def test_a_pair_broken_by_a_capacity_cut_says_so():
    mentees = [mentee("e0"), mentee("e1", km=1)]
    pb = problem(mentees, [mentor("m0", capacity=2)], policy=Policy())
    first = solve(pb)
    assert first.stats.matched == 2
    cut = dataclasses.replace(pb, mentors=(mentor("m0", capacity=1),))
    _, again = rematch(cut, pairs(first))
    assert [c.reason for c in again.changes] == ["capacity_reduced", "capacity_reduced"][
        : len(again.changes)
    ]
    assert len(again.changes) == 1
