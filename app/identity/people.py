"""Linked records as one person in the engine's problem — a pure transformation.

The engine knows records; identity knows that some records are one person. Rather than
teach the engine, the problem is rewritten before the solve and the result mapped back:

- linked young people's records become **one** engine mentee (id: the representative
  record, the one waiting longest), whose needs are the union of the records' needs
  (the representative's ranking first) and whose supports and running matches are all
  of the records' — a need covered on any record is covered for the person, and the
  engine proposes at most one mentor per mentee, hence per person;
- linked volunteer records become **one** engine mentor with the smallest declared
  capacity, the union of skills and programmes, and every running match of any record;
  a young person cannot be proposed two records of one volunteer.

Each proposal is then given back to one record: the young person's record that lists
the need (and whose programme enrolment allows the programme), and the volunteer's
record serving in the programme (with the skill). An unmatched person is reported on
each of their records. The attributes the engine compares that are not merged (location,
travel distance, birth year, remote preference) are the representative's: records of
one person rarely disagree on them, and when they do the representative's are used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from app import matching
from app.matching.result import ALL_NEEDS_SUPPORTED

ELSEWHERE_MESSAGE = (
    "every need of this young person is already supported, some of them by another actor "
    "following the same person"
)


@dataclasses.dataclass(frozen=True)
class Coverage:
    """Needs covered on linked records the run does not load (another territory, an
    inactive record), or by supports declared by identity: keyed by a record in the run."""

    mentee_id: str
    need: str


@dataclasses.dataclass(frozen=True)
class People:
    """A problem rewritten over persons, and the way back to records."""

    problem: matching.MatchingProblem
    mentee_records: Mapping[str, tuple[matching.Mentee, ...]]
    """Person id → its records (representative first), for persons of several records."""
    mentor_records: Mapping[str, tuple[matching.Mentor, ...]]
    own_coverage: Mapping[str, frozenset[str]]
    """Record id → the needs covered on that record itself (its supports, running matches)."""

    def expand(self, result: matching.MatchingResult) -> matching.MatchingResult:
        """The result over records: each proposal on one record, each unmatched person on
        every record of theirs."""
        if not self.mentee_records and not self.mentor_records:
            return result
        proposals = sorted((self._proposal(p) for p in result.proposals), key=lambda p: p.mentee_id)
        unmatched: list[matching.Unmatched] = []
        for entry in result.unmatched:
            records = self.mentee_records.get(entry.mentee_id)
            if records is None:
                unmatched.append(entry)
                continue
            for record in records:
                message = entry.message
                own = self.own_coverage.get(record.id, frozenset())
                if entry.reason == ALL_NEEDS_SUPPORTED and not set(record.needs) <= own:
                    message = ELSEWHERE_MESSAGE
                unmatched.append(dataclasses.replace(entry, mentee_id=record.id, message=message))
        unmatched.sort(key=lambda u: u.mentee_id)
        return dataclasses.replace(result, proposals=tuple(proposals), unmatched=tuple(unmatched))

    def _proposal(self, proposal: matching.Proposal) -> matching.Proposal:
        mentee_id, mentor_id = proposal.mentee_id, proposal.mentor_id
        mentees = self.mentee_records.get(mentee_id)
        if mentees is not None:
            mentee_id = _mentee_record(mentees, proposal.programme_id, proposal.need).id
        mentors = self.mentor_records.get(mentor_id)
        if mentors is not None:
            mentor_id = _mentor_record(mentors, proposal.programme_id, proposal.need).id
        return dataclasses.replace(proposal, mentee_id=mentee_id, mentor_id=mentor_id)


def _mentee_record(
    records: Sequence[matching.Mentee], programme_id: str, need: str
) -> matching.Mentee:
    def allows(record: matching.Mentee) -> bool:
        enrolled = record.enrolled_programme_ids
        return not enrolled or programme_id in enrolled

    with_need = [r for r in records if need in r.needs]
    return next((r for r in with_need if allows(r)), with_need[0] if with_need else records[0])


def _mentor_record(
    records: Sequence[matching.Mentor], programme_id: str, need: str
) -> matching.Mentor:
    serving = [r for r in records if programme_id in r.programme_ids] or list(records)
    return next((r for r in serving if need in r.skills), serving[0])


def _groups(ids: Iterable[str], links: Iterable[Iterable[str]]) -> dict[str, str]:
    """Record id → its group's smallest-id member, over the records present (union-find
    of the links, so that A~B and B~C put A, B, C together)."""
    present = set(ids)
    parent = {i: i for i in present}

    def find(i: str) -> str:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for group in links:
        members = sorted(m for m in group if m in present)
        for other in members[1:]:
            a, b = find(members[0]), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {i: find(i) for i in present}


def _merged_needs(records: Sequence[matching.Mentee]) -> tuple[str, ...]:
    out: list[str] = []
    for record in records:
        out.extend(need for need in record.needs if need not in out)
    return tuple(out)


def _person_mentee(records: Sequence[matching.Mentee]) -> matching.Mentee:
    first = records[0]
    open_to_any = any(not r.enrolled_programme_ids for r in records)
    return dataclasses.replace(
        first,
        needs=_merged_needs(records),
        waiting_since=min(r.waiting_since for r in records),
        languages=frozenset().union(*(r.languages for r in records)),
        qpv=any(r.qpv for r in records),
        enrolled_programme_ids=(
            frozenset()
            if open_to_any
            else frozenset().union(*(r.enrolled_programme_ids for r in records))
        ),
    )


def _person_mentor(records: Sequence[matching.Mentor]) -> matching.Mentor:
    """One volunteer out of linked records. The service passes each record's
    ``background_checked_programme_ids`` already restricted to checks valid on the run
    date, so the person's check counts for the union of them (the latest date stands for
    them all)."""
    checks = [r.background_check_valid_until for r in records if r.background_check_valid_until]
    counted = [
        r.programme_ids
        if r.background_checked_programme_ids is None
        else r.background_checked_programme_ids
        for r in records
        if r.background_check_valid_until
    ]
    return dataclasses.replace(
        records[0],
        capacity=min(r.capacity for r in records),
        skills=frozenset().union(*(r.skills for r in records)),
        programme_ids=frozenset().union(*(r.programme_ids for r in records)),
        languages=frozenset().union(*(r.languages for r in records)),
        background_check_valid_until=max(checks) if checks else None,
        background_checked_programme_ids=frozenset().union(*counted),
    )


def collapse(
    problem: matching.MatchingProblem,
    mentee_links: Iterable[Iterable[str]] = (),
    mentor_links: Iterable[Iterable[str]] = (),
    coverage: Iterable[Coverage] = (),
    outside_running: Iterable[matching.RunningMatch] = (),
) -> People:
    """``problem`` over persons. ``mentee_links`` / ``mentor_links``: groups of record ids
    of one person (records absent from the problem are ignored); ``coverage``: needs
    covered outside the problem for a record in it; ``outside_running``: running matches
    of linked volunteer records outside the problem (they hold the person's capacity)."""
    mentee_person = _groups((m.id for m in problem.mentees), mentee_links)
    mentor_person = _groups((m.id for m in problem.mentors), mentor_links)
    by_mentee: dict[str, list[matching.Mentee]] = {}
    for record in sorted(problem.mentees, key=lambda r: (r.waiting_since, r.id)):
        by_mentee.setdefault(mentee_person[record.id], []).append(record)
    by_mentor: dict[str, list[matching.Mentor]] = {}
    for mentor in sorted(problem.mentors, key=lambda r: r.id):
        by_mentor.setdefault(mentor_person[mentor.id], []).append(mentor)
    # The person's id is its representative record's id.
    mentee_id = {r.id: records[0].id for records in by_mentee.values() for r in records}
    mentor_id = {r.id: records[0].id for records in by_mentor.values() for r in records}

    def e(record_id: str) -> str:
        return mentee_id.get(record_id, record_id)

    def m(record_id: str) -> str:
        return mentor_id.get(record_id, record_id)

    own: dict[str, set[str]] = {}
    for s in problem.supports:
        if s.active_on(problem.run_date):
            own.setdefault(s.mentee_id, set()).add(s.need)
    for r in problem.running_matches:
        own.setdefault(r.mentee_id, set()).add(r.need)

    supports = [dataclasses.replace(s, mentee_id=e(s.mentee_id)) for s in problem.supports]
    supports.extend(
        matching.Support(mentee_id=e(c.mentee_id), need=c.need, start=problem.run_date)
        for c in coverage
        if c.mentee_id in mentee_id
    )
    running = [
        dataclasses.replace(r, mentee_id=e(r.mentee_id), mentor_id=m(r.mentor_id))
        for r in (*problem.running_matches, *outside_running)
    ]
    excluded = sorted({(e(x.mentee_id), m(x.mentor_id)) for x in problem.excluded_pairs})
    collapsed = dataclasses.replace(
        problem,
        mentees=tuple(
            _person_mentee(records) if len(records) > 1 else records[0]
            for records in sorted(by_mentee.values(), key=lambda rs: rs[0].id)
        ),
        mentors=tuple(
            _person_mentor(records) if len(records) > 1 else records[0]
            for records in sorted(by_mentor.values(), key=lambda rs: rs[0].id)
        ),
        supports=tuple(supports),
        running_matches=tuple(running),
        excluded_pairs=tuple(matching.ExcludedPair(mentee_id=a, mentor_id=b) for a, b in excluded),
    )
    return People(
        problem=collapsed,
        mentee_records={
            records[0].id: tuple(records) for records in by_mentee.values() if len(records) > 1
        },
        mentor_records={
            records[0].id: tuple(records) for records in by_mentor.values() if len(records) > 1
        },
        own_coverage={k: frozenset(v) for k, v in own.items()},
    )
