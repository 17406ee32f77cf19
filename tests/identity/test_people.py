"""Linked records collapsed into persons, checked against an exact reference written
over the *records*, with the person constraints stated directly (at most one proposal
per young person, a volunteer's records share the smallest capacity)."""

import dataclasses
import random
from collections import Counter

import pytest
from ortools.sat.python import cp_model

from app import matching
from app.identity.people import Coverage, collapse
from app.matching.context import build_context
from app.matching.geo import great_circle_km
from app.matching.rules import check_proposal
from tests.matching.factories import random_problem

SEEDS = range(30)


def with_duplicates(
    seed: int,
) -> tuple[matching.MatchingProblem, list[list[str]], list[list[str]]]:
    """A random problem where some young people and volunteers were recorded twice or
    three times (same person: same place and languages; other needs, skills, capacity)."""
    rng = random.Random(1000 + seed)
    base = random_problem(seed, n_mentees=12, n_mentors=7)
    mentees, mentee_groups = list(base.mentees), []
    for original in rng.sample(list(base.mentees), 4):
        group = [original.id]
        for k in range(rng.randint(1, 2)):
            copy = dataclasses.replace(
                original,
                id=f"{original.id}-dup{k}",
                needs=tuple(rng.sample(matching.NEEDS[:5], rng.randint(1, 3))),
                waiting_since=original.waiting_since.replace(day=1),
            )
            mentees.append(copy)
            group.append(copy.id)
        mentee_groups.append(group)
    mentors, mentor_groups = list(base.mentors), []
    for original in rng.sample(list(base.mentors), 3):
        copy = dataclasses.replace(
            original,
            id=f"{original.id}-dup",
            capacity=rng.randint(1, 3),
            skills=frozenset(rng.sample(matching.NEEDS[:5], rng.randint(1, 4))),
        )
        mentors.append(copy)
        mentor_groups.append([original.id, copy.id])
    supports = list(base.supports)
    for group in mentee_groups:  # a support recorded on one record only
        if rng.random() < 0.5:
            record = next(m for m in mentees if m.id == group[-1])
            supports.append(matching.Support(record.id, record.needs[0], base.run_date))
    problem = dataclasses.replace(
        base, mentees=tuple(mentees), mentors=tuple(mentors), supports=tuple(supports)
    )
    return problem, mentee_groups, mentor_groups


def record_level_optimum(
    problem: matching.MatchingProblem,
    mentee_groups: list[list[str]],
    mentor_groups: list[list[str]],
    coverage: list[Coverage] = (),  # type: ignore[assignment]
) -> int:
    """Max number of proposals over (record, record, programme, need), by the scalar
    rules, with person constraints."""
    person = {m.id: m.id for m in problem.mentees}
    for group in mentee_groups:
        person.update((r, group[0]) for r in group)
    volunteer = {m.id: m.id for m in problem.mentors}
    for group in mentor_groups:
        volunteer.update((r, group[0]) for r in group)
    covered: dict[str, set[str]] = {}
    for s in problem.supports:
        if s.active_on(problem.run_date):
            covered.setdefault(person.get(s.mentee_id, s.mentee_id), set()).add(s.need)
    for r in problem.running_matches:
        covered.setdefault(person.get(r.mentee_id, r.mentee_id), set()).add(r.need)
    for c in coverage:
        covered.setdefault(person[c.mentee_id], set()).add(c.need)
    excluded_people = {
        (person.get(x.mentee_id, x.mentee_id), volunteer.get(x.mentor_id, x.mentor_id))
        for x in problem.excluded_pairs
    }
    excluded = {
        (e.id, m.id)
        for e in problem.mentees
        for m in problem.mentors
        if (person[e.id], volunteer[m.id]) in excluded_people
    }
    capacity: dict[str, int] = {}
    for m in problem.mentors:
        v = volunteer[m.id]
        capacity[v] = min(capacity.get(v, m.capacity), m.capacity)
    held = Counter(volunteer.get(r.mentor_id, r.mentor_id) for r in problem.running_matches)
    programme_left = build_context(problem).programme_remaining

    model = cp_model.CpModel()
    by_person: dict[str, list[cp_model.IntVar]] = {}
    by_volunteer: dict[str, list[cp_model.IntVar]] = {}
    by_programme: dict[str, list[cp_model.IntVar]] = {}
    for e in problem.mentees:
        for m in problem.mentors:
            km = great_circle_km(e.lat, e.lon, m.lat, m.lon)
            for p in problem.programmes:
                for need in e.needs:
                    broken = check_proposal(
                        e, m, p, need, km, problem.run_date,
                        covered.get(person[e.id], set()), excluded,
                    )  # fmt: skip
                    if broken is not None:
                        continue
                    x = model.new_bool_var(f"{e.id}/{m.id}/{p.id}/{need}")
                    by_person.setdefault(person[e.id], []).append(x)
                    by_volunteer.setdefault(volunteer[m.id], []).append(x)
                    by_programme.setdefault(p.id, []).append(x)
    for xs in by_person.values():
        model.add(sum(xs) <= 1)
    for v, xs in by_volunteer.items():
        model.add(sum(xs) <= max(0, capacity[v] - held[v]))
    for p, xs in by_programme.items():
        model.add(sum(xs) <= programme_left[p])
    model.maximize(sum(x for xs in by_person.values() for x in xs))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(model) == cp_model.OPTIMAL
    return round(solver.objective_value)


@pytest.mark.parametrize("seed", SEEDS)
def test_linked_records_get_one_proposal_per_person_and_an_optimal_count(seed: int) -> None:
    problem, mentee_groups, mentor_groups = with_duplicates(seed)
    people = collapse(problem, mentee_groups, mentor_groups)
    result = people.expand(matching.solve(people.problem))

    person = {r: g[0] for g in mentee_groups for r in g}
    per_person = Counter(person.get(p.mentee_id, p.mentee_id) for p in result.proposals)
    assert max(per_person.values(), default=0) <= 1
    records = {m.id: m for m in problem.mentees}
    for p in result.proposals:  # each proposal lands on a record that has the need
        assert p.need in records[p.mentee_id].needs
    volunteer = {r: g[0] for g in mentor_groups for r in g}
    capacity = {g[0]: min(m.capacity for m in problem.mentors if m.id in g) for g in mentor_groups}
    load = Counter(volunteer.get(r.mentor_id) for r in problem.running_matches)
    load.update(volunteer.get(p.mentor_id) for p in result.proposals)
    for v, cap in capacity.items():
        assert load[v] <= cap
    # Every record is accounted for: proposed, unmatched, or another record of a
    # proposed person.
    listed = {p.mentee_id for p in result.proposals} | {u.mentee_id for u in result.unmatched}
    proposed_people = set(per_person)
    for record in problem.mentees:
        assert record.id in listed or person.get(record.id) in proposed_people

    if result.stats.status == "optimal":
        assert result.stats.matched == len(result.proposals)
        assert result.stats.matched == record_level_optimum(problem, mentee_groups, mentor_groups)


def test_a_need_covered_on_a_linked_record_is_covered_for_the_person() -> None:
    problem, mentee_groups, mentor_groups = with_duplicates(3)
    group = mentee_groups[0]
    records = [m for m in problem.mentees if m.id in group]
    coverage = [Coverage(records[0].id, need) for r in records for need in r.needs]
    people = collapse(problem, mentee_groups, mentor_groups, coverage=coverage)
    result = people.expand(matching.solve(people.problem))
    assert not [p for p in result.proposals if p.mentee_id in group]
    reasons = {u.mentee_id: u.reason for u in result.unmatched if u.mentee_id in group}
    assert reasons == dict.fromkeys(group, "all_needs_supported")
    assert result.stats.matched == record_level_optimum(
        problem, mentee_groups, mentor_groups, coverage
    )


def test_without_links_the_problem_is_unchanged() -> None:
    problem = random_problem(7)
    people = collapse(problem)
    assert people.problem.mentees == problem.mentees
    assert people.problem.mentors == problem.mentors
    result = matching.solve(problem)
    assert people.expand(result) == result
