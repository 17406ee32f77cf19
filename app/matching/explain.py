"""Explanations: score breakdown of each proposal, funnel reason of each unmatched.

Funnel (first that applies): ``all_needs_supported`` → ``no_programme`` (no programme
covers the territory, age, an open need and the mentee's enrolment) →
``no_mentor_in_reach`` (no mentor of an eligible programme skilled in a need it
covers, within distance or remotely) → ``no_background_checked_mentor`` (possible
minor; none of those mentors has a valid check) → ``no_compatible_mentor`` (the rest
share no language or are excluded pairs) → ``capacity_exhausted`` (feasible options
existed but mentors or programmes were full or needed by others).
"""

from __future__ import annotations

from datetime import date

import numpy as np

from app.matching.arrays import BoolArray, IntArray, ProblemArrays
from app.matching.candidates import CandidateArcs, programme_mentors
from app.matching.geo import chord_to_km
from app.matching.policy import Policy
from app.matching.problem import NEEDS
from app.matching.result import (
    ALL_NEEDS_SUPPORTED,
    CAPACITY_EXHAUSTED,
    NO_BACKGROUND_CHECKED_MENTOR,
    NO_COMPATIBLE_MENTOR,
    NO_MENTOR_IN_REACH,
    NO_PROGRAMME,
    Proposal,
    Unmatched,
)
from app.matching.rules import IN_PERSON, REMOTE
from app.matching.scoring import score_pair

BLOCK = 2_000_000  # pair-matrix elements computed at once in the funnel


def proposals(
    arrs: ProblemArrays, arcs: CandidateArcs, chosen: IntArray, policy: Policy, run_date: date
) -> tuple[Proposal, ...]:
    """Chosen arcs as proposals, scored term by term with the scalar reference."""
    out = []
    for a in chosen.tolist():
        mentee = arrs.mentees[int(arcs.mentee[a])]
        need = NEEDS[int(arcs.need[a])]
        mode = REMOTE if arcs.remote[a] else IN_PERSON
        km = float(arcs.distance_km[a])
        terms = score_pair(
            policy,
            mentee,
            need,
            mode,
            km,
            int(arcs.shared_languages[a]),
            not bool(arrs.mentee_first_support[int(arcs.mentee[a])]),
            run_date,
        )
        if terms.total != int(arcs.score[a]):
            raise RuntimeError(f"score mismatch for mentee {mentee.id!r}")  # engine bug
        out.append(
            Proposal(
                mentee_id=mentee.id,
                mentor_id=arrs.mentors[int(arcs.mentor[a])].id,
                programme_id=arrs.programmes[int(arcs.programme[a])].id,
                need=need,
                mode=mode,
                distance_km=km,
                score=terms.total,
                score_terms=terms,
            )
        )
    return tuple(sorted(out, key=lambda p: p.mentee_id))


def _needs_text(mask: int) -> str:
    return ", ".join(n for i, n in enumerate(NEEDS) if mask >> i & 1) or "none"


def _stages(
    arrs: ProblemArrays, arcs: CandidateArcs, who: IntArray
) -> tuple[BoolArray, BoolArray, BoolArray, IntArray]:
    """For mentees ``who``: any skilled mentor in reach; any also background-checked
    where required; count of fully compatible options (capacity ignored)."""
    pos = {int(e): i for i, e in enumerate(who.tolist())}
    reach = np.zeros(who.size, dtype=np.bool_)
    checked = np.zeros(who.size, dtype=np.bool_)
    compatible = np.zeros(who.size, dtype=np.int64)
    eligible_any = np.zeros(who.size, dtype=np.bool_)
    in_who = np.zeros(len(arrs.mentees), dtype=np.bool_)
    in_who[who] = True
    excluded = set(arrs.excluded_keys.tolist())
    checked_by_programme = programme_mentors(arrs, arrs.mentor_checked_programmes)
    for p, mentors in enumerate(programme_mentors(arrs)):
        es = arcs.eligible_by_programme[p]
        es = es[in_who[es]]
        if es.size == 0:
            continue
        rows = np.array([pos[int(e)] for e in es.tolist()], dtype=np.int64)
        eligible_any[rows] = True
        if mentors.size == 0:
            continue
        wanted = arrs.mentee_open[es] & arrs.programme_needs[p]
        step = max(1, BLOCK // mentors.size)
        for s in range(0, es.size, step):
            e, r, w = es[s : s + step], rows[s : s + step], wanted[s : s + step]
            skill = (w[:, None] & arrs.mentor_skills[mentors][None, :]) != 0
            chord = np.linalg.norm(
                arrs.mentee_xyz[e][:, None, :] - arrs.mentor_xyz[mentors][None, :, :], axis=2
            )
            km = chord_to_km(chord)
            near = km <= np.minimum(arrs.mentee_travel[e][:, None], arrs.mentor_travel[mentors])
            far_ok = (
                arrs.programme_remote[p]
                & arrs.mentee_remote[e][:, None]
                & arrs.mentor_remote[mentors][None, :]
            )
            ok = skill & (near | far_ok)
            reach[r] |= ok.any(axis=1)
            bg = np.isin(mentors, checked_by_programme[p], assume_unique=True)
            ok &= ~arrs.mentee_minor[e][:, None] | bg[None, :]
            checked[r] |= ok.any(axis=1)
            lang = (
                np.bitwise_count(
                    arrs.mentee_lang[e][:, None, :] & arrs.mentor_lang[mentors][None, :, :]
                ).sum(axis=2)
                > 0
            )
            lang |= ~arrs.mentee_has_lang[e][:, None] | ~arrs.mentor_has_lang[mentors][None, :]
            ok &= lang
            if excluded:
                keys = e[:, None] * len(arrs.mentors) + mentors[None, :]
                ok &= ~np.isin(keys, arrs.excluded_keys)
            np.add.at(compatible, r, ok.sum(axis=1))
    return eligible_any, reach, checked, compatible


def unmatched(
    arrs: ProblemArrays, arcs: CandidateArcs, chosen: IntArray, run_date: date
) -> tuple[Unmatched, ...]:
    n = len(arrs.mentees)
    matched = np.zeros(n, dtype=np.bool_)
    matched[arcs.mentee[chosen]] = True
    arc_count = np.bincount(arcs.mentee, minlength=n)
    out: list[Unmatched] = []
    # Mentees with arcs lost them to capacity; others go through the funnel.
    who = np.flatnonzero(~matched & (arc_count == 0) & (arrs.mentee_open != 0))
    eligible_any, reach, checked, compatible = _stages(arrs, arcs, who)
    stage = {int(e): i for i, e in enumerate(who.tolist())}
    for e in np.flatnonzero(~matched).tolist():
        m = arrs.mentees[e]
        open_needs = _needs_text(int(arrs.mentee_open[e]))
        if arrs.mentee_open[e] == 0:
            out.append(
                Unmatched(
                    m.id,
                    ALL_NEEDS_SUPPORTED,
                    "Every need of this young person is already covered by an active "
                    "support or a running match.",
                )
            )
            continue
        if arc_count[e] > 0:
            out.append(_exhausted(m.id, int(arc_count[e])))
            continue
        i = stage[e]
        if not eligible_any[i]:
            out.append(
                Unmatched(
                    m.id,
                    NO_PROGRAMME,
                    f"No programme covers department {m.department} / commune "
                    f"{m.commune_insee}, age {int(arrs.mentee_age[e])} and the open needs "
                    f"({open_needs}) of this young person.",
                )
            )
        elif not reach[i]:
            remote = "" if m.remote_ok else " (remote not accepted)"
            out.append(
                Unmatched(
                    m.id,
                    NO_MENTOR_IN_REACH,
                    f"No mentor of an eligible programme with the skills needed "
                    f"({open_needs}) lives within {m.max_travel_km:g} km or can meet "
                    f"remotely{remote}.",
                )
            )
        elif not checked[i]:
            out.append(
                Unmatched(
                    m.id,
                    NO_BACKGROUND_CHECKED_MENTOR,
                    f"This young person may be a minor (born {m.birth_year}) and no mentor "
                    f"in reach has a background check valid on {run_date.isoformat()}.",
                )
            )
        elif compatible[i] == 0:
            out.append(
                Unmatched(
                    m.id,
                    NO_COMPATIBLE_MENTOR,
                    "The mentors in reach share no language with this young person or "
                    "must not be proposed again after a past match.",
                )
            )
        else:
            out.append(_exhausted(m.id, int(compatible[i])))
    return tuple(sorted(out, key=lambda u: u.mentee_id))


def _exhausted(mentee_id: str, count: int) -> Unmatched:
    return Unmatched(
        mentee_id,
        CAPACITY_EXHAUSTED,
        f"{count} feasible mentor/programme option(s) existed, but their capacity was "
        "used by running matches or by proposals to other young people.",
        count,
    )
