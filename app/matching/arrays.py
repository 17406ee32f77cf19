"""Column arrays of a problem, in id order, for the vectorised candidate generator.

Entities are sorted by id so the result does not depend on the input order; array
index ``i`` of ``mentee_*`` is ``mentee_ids[i]`` and likewise for mentors/programmes.
Needs and skills are bit masks over :data:`NEEDS`; languages are bit masks over the
languages present in the run (``lang_words`` 64-bit words per person).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from app.matching.context import RunContext
from app.matching.geo import unit_vectors
from app.matching.problem import NEED_INDEX, NEEDS, MatchingProblem, Mentee, Mentor, Programme
from app.matching.rules import MINOR_MAX_AGE, age_in_year, background_check_valid
from app.matching.scoring import rural_points, waiting_points

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
WordArray = npt.NDArray[np.uint64]

NO_RANK = 127  # rank of a need the mentee does not have


def need_mask(needs: frozenset[str] | tuple[str, ...]) -> int:
    mask = 0
    for n in needs:
        mask |= 1 << NEED_INDEX[n]
    return mask


@dataclasses.dataclass(frozen=True, slots=True)
class ProblemArrays:
    mentees: tuple[Mentee, ...]
    mentors: tuple[Mentor, ...]
    programmes: tuple[Programme, ...]
    # mentees
    mentee_xyz: FloatArray
    mentee_travel: FloatArray
    mentee_remote: BoolArray
    mentee_minor: BoolArray
    mentee_age: IntArray
    mentee_open: IntArray  # needs not yet covered (rule 3), bit mask
    mentee_rank: npt.NDArray[np.int8]  # (n, len(NEEDS)) rank of each need, NO_RANK if absent
    mentee_lang: WordArray  # (n, words)
    mentee_has_lang: BoolArray
    mentee_priority: IntArray  # first_support + qpv + rural + waiting points
    mentee_first_support: BoolArray
    mentee_has_enrolment: BoolArray  # lists programmes (else open to any)
    enrolled_by_programme: tuple[IntArray, ...]  # programme index -> enrolled mentees
    mentee_dep: IntArray  # department code, as an index in ``territory_codes``
    mentee_commune: IntArray  # commune code, as an index in ``territory_codes``
    territory_codes: dict[str, int]
    # mentors
    mentor_xyz: FloatArray
    mentor_travel: FloatArray
    mentor_remote: BoolArray
    # programmes (indices) for which the mentor's background check counts on the run date
    mentor_checked_programmes: tuple[tuple[int, ...], ...]
    mentor_skills: IntArray
    mentor_lang: WordArray
    mentor_has_lang: BoolArray
    mentor_remaining: IntArray
    mentor_programmes: tuple[tuple[int, ...], ...]
    # programmes
    programme_needs: IntArray
    programme_remaining: IntArray
    programme_remote: BoolArray
    # (mentee index, mentor index) pairs never to propose, as keys mentee * n_mentors + mentor
    excluded_keys: IntArray


def _language_words(
    people: Sequence[Mentee | Mentor], lang_index: dict[str, int], words: int
) -> WordArray:
    out = np.zeros((len(people), words), dtype=np.uint64)
    for i, person in enumerate(people):
        for lang in person.languages:
            j = lang_index[lang]
            out[i, j // 64] |= np.uint64(1 << (j % 64))
    return out


def build_arrays(problem: MatchingProblem, ctx: RunContext) -> ProblemArrays:
    policy, day = problem.policy, problem.run_date
    mentees = tuple(sorted(problem.mentees, key=lambda m: m.id))
    mentors = tuple(sorted(problem.mentors, key=lambda m: m.id))
    programmes = tuple(sorted(problem.programmes, key=lambda p: p.id))
    prog_index = {p.id: i for i, p in enumerate(programmes)}
    mentor_index = {m.id: i for i, m in enumerate(mentors)}
    mentee_index = {m.id: i for i, m in enumerate(mentees)}

    people: list[Mentee | Mentor] = [*mentees, *mentors]
    languages = sorted({lang for m in people for lang in m.languages})
    lang_index = {lang: i for i, lang in enumerate(languages)}
    words = max(1, -(-len(languages) // 64))

    n = len(mentees)
    rank = np.full((n, len(NEEDS)), NO_RANK, dtype=np.int8)
    open_mask = np.zeros(n, dtype=np.int64)
    priority = np.zeros(n, dtype=np.int64)
    first = np.zeros(n, dtype=np.bool_)
    w = policy.weights
    for i, m in enumerate(mentees):
        covered = ctx.covered_needs.get(m.id, frozenset())
        for r, need in enumerate(m.needs):
            rank[i, NEED_INDEX[need]] = r
            if need not in covered:
                open_mask[i] |= 1 << NEED_INDEX[need]
        first[i] = m.id not in ctx.ever_supported
        priority[i] = (
            (w.first_support if first[i] else 0)
            + (w.qpv if m.qpv else 0)
            + rural_points(policy, m)
            + waiting_points(policy, m, day)
        )
    age = np.array([age_in_year(m.birth_year, day) for m in mentees], dtype=np.int64)

    enrolled: list[list[int]] = [[] for _ in programmes]
    for i, m in enumerate(mentees):
        for pid in m.enrolled_programme_ids:
            if pid in prog_index:
                enrolled[prog_index[pid]].append(i)
    codes: dict[str, int] = {}

    excluded = [
        mentee_index[a] * len(mentors) + mentor_index[b]
        for a, b in ctx.excluded
        if a in mentee_index and b in mentor_index
    ]
    return ProblemArrays(
        mentees=mentees,
        mentors=mentors,
        programmes=programmes,
        mentee_xyz=unit_vectors(
            np.array([m.lat for m in mentees], dtype=np.float64),
            np.array([m.lon for m in mentees], dtype=np.float64),
        ).reshape(n, 3),
        mentee_travel=np.array([m.max_travel_km for m in mentees], dtype=np.float64),
        mentee_remote=np.array([m.remote_ok for m in mentees], dtype=np.bool_),
        mentee_minor=age <= MINOR_MAX_AGE,
        mentee_age=age,
        mentee_open=open_mask,
        mentee_rank=rank,
        mentee_lang=_language_words(mentees, lang_index, words),
        mentee_has_lang=np.array([bool(m.languages) for m in mentees], dtype=np.bool_),
        mentee_priority=priority,
        mentee_first_support=first,
        mentee_has_enrolment=np.array(
            [bool(m.enrolled_programme_ids) for m in mentees], dtype=np.bool_
        ),
        enrolled_by_programme=tuple(np.array(x, dtype=np.int64) for x in enrolled),
        mentee_dep=np.array([codes.setdefault(m.department, len(codes)) for m in mentees]),
        mentee_commune=np.array([codes.setdefault(m.commune_insee, len(codes)) for m in mentees]),
        territory_codes=codes,
        mentor_xyz=unit_vectors(
            np.array([m.lat for m in mentors], dtype=np.float64),
            np.array([m.lon for m in mentors], dtype=np.float64),
        ).reshape(len(mentors), 3),
        mentor_travel=np.array([m.max_travel_km for m in mentors], dtype=np.float64),
        mentor_remote=np.array([m.remote_ok for m in mentors], dtype=np.bool_),
        mentor_checked_programmes=tuple(
            tuple(
                sorted(
                    prog_index[p]
                    for p in m.programme_ids
                    if p in prog_index and background_check_valid(m, day, p)
                )
            )
            for m in mentors
        ),
        mentor_skills=np.array([need_mask(m.skills) for m in mentors], dtype=np.int64),
        mentor_lang=_language_words(mentors, lang_index, words),
        mentor_has_lang=np.array([bool(m.languages) for m in mentors], dtype=np.bool_),
        mentor_remaining=np.array([ctx.mentor_remaining[m.id] for m in mentors], dtype=np.int64),
        mentor_programmes=tuple(
            tuple(sorted(prog_index[p] for p in m.programme_ids if p in prog_index))
            for m in mentors
        ),
        programme_needs=np.array([need_mask(p.needs) for p in programmes], dtype=np.int64),
        programme_remaining=np.array(
            [ctx.programme_remaining[p.id] for p in programmes], dtype=np.int64
        ),
        programme_remote=np.array([p.remote_allowed for p in programmes], dtype=np.bool_),
        excluded_keys=np.array(sorted(excluded), dtype=np.int64),
    )
