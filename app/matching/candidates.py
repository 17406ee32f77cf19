"""Candidate arcs (mentee, mentor, programme, need) satisfying every hard rule.

Not quadratic: for every programme p and need b it covers, a k-d tree indexes the
mentors of p skilled in b (on unit-sphere coordinates, where Euclidean nearest is
great-circle nearest), and only the young people eligible for (p, b) query it. Minors
query a tree restricted to background-checked mentors, so safeguarding never wastes a
slot. Each query asks for the K nearest mentors within the young person's travel
distance (in person) and, when the mentee and programme allow remote, the K nearest
remote-ready mentors at any distance. The remaining rules (the mentor's own travel
distance, shared language, excluded pairs) are applied to the returned arrays.

Candidate cap. With ``Policy.max_candidates_per_mentee = c`` each query returns
K = c + QUERY_SLACK mentors and each mentee keeps its c best arcs by score (ties: nearer,
then mentor id, then programme id). Within one (programme, need) tree all mentors earn
the same need and programme terms, so the K nearest are the K best but for the language
bonus and for mentors dropped by the later filters. The solver proves optimality on
this capped graph; ``c = None`` disables the cap (exhaustive, quadratic in dense areas:
for tests and small runs). See docs/matching.md for the measured effect of the cap.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from app.matching.arrays import NO_RANK, BoolArray, FloatArray, IntArray, ProblemArrays
from app.matching.geo import chord_to_km, km_to_chord, km_to_chords
from app.matching.policy import Policy
from app.matching.problem import NEEDS
from app.matching.scoring import MAX_SHARED_LANGUAGES

QUERY_SLACK = 8
"""Extra neighbours asked of each k-d tree query, to absorb the filters applied after."""
PARALLEL_QUERY_MIN = 5_000
"""Queries of at least this many young people run on every core."""


@dataclasses.dataclass(frozen=True, slots=True)
class CandidateArcs:
    """Feasible arcs, sorted by (mentee, score desc, distance, mentor, programme)."""

    mentee: IntArray
    mentor: IntArray
    programme: IntArray
    need: IntArray  # index in NEEDS
    remote: BoolArray
    distance_km: FloatArray
    shared_languages: IntArray
    score: IntArray
    considered: int
    """Distinct feasible arcs found before the per-mentee cap."""
    capped_mentees: int
    """Young people who had more feasible arcs than the cap."""
    eligible_by_programme: tuple[IntArray, ...]
    """Mentees eligible for each programme (rules 1 and 3, mentee side), for the funnel."""
    saturated: BoolArray
    """Per mentee: some k-d tree query returned its K nearest while more mentors were in
    the tree, so feasible arcs may exist that were never generated."""
    omitted: CandidateArcs | None = None
    """Feasible arcs generated but cut by the per-mentee cap (same order)."""

    def __len__(self) -> int:
        return int(self.mentee.size)


def eligible_mentees(arrs: ProblemArrays, p: int) -> BoolArray:
    """Rule 1 (mentee side) and rule 3: programme p covers the territory, the age and an
    open need of the mentee, and the mentee accepts p."""
    prog = arrs.programmes[p]
    ok = (arrs.mentee_age >= prog.min_age) & (arrs.mentee_age <= prog.max_age)
    ok &= (arrs.mentee_open & arrs.programme_needs[p]) != 0
    codes = np.array(
        [arrs.territory_codes[t] for t in prog.territories if t in arrs.territory_codes],
        dtype=np.int64,
    )
    ok &= np.isin(arrs.mentee_dep, codes) | np.isin(arrs.mentee_commune, codes)
    accepts = ~arrs.mentee_has_enrolment
    accepts[arrs.enrolled_by_programme[p]] = True
    return ok & accepts


def programme_mentors(
    arrs: ProblemArrays, links: tuple[tuple[int, ...], ...] | None = None
) -> list[IntArray]:
    """Mentor indices volunteering with each programme (rule 1, mentor side); with
    ``links`` = ``arrs.mentor_checked_programmes``, those whose background check counts
    for it (rule 5)."""
    lists: list[list[int]] = [[] for _ in arrs.programmes]
    for m, progs in enumerate(arrs.mentor_programmes if links is None else links):
        for p in progs:
            lists[p].append(m)
    return [np.array(x, dtype=np.int64) for x in lists]


def _query(
    xyz: FloatArray,
    tree_mentors: IntArray,
    arrs: ProblemArrays,
    q: IntArray,
    k: int | None,
    ub: float | FloatArray,
    saturated: BoolArray,
) -> tuple[IntArray, IntArray, FloatArray]:
    """K nearest of ``tree_mentors`` for mentees ``q`` (every one within ``ub`` when ``k``
    is None: a radius, or one per mentee), flattened to (mentee, mentor, chord). Marks in
    ``saturated`` the mentees whose query was cut at K while the tree held more
    mentors."""
    if tree_mentors.size == 0 or q.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    tree = cKDTree(xyz)
    # Threads only pay on large batches (their start-up dominates small queries).
    workers = -1 if q.size >= PARALLEL_QUERY_MIN else 1
    if k is None:
        if np.isscalar(ub) and not np.isfinite(ub):  # remote: every mentor of the tree
            rows = np.repeat(q, tree_mentors.size)
            cols = np.tile(np.arange(tree_mentors.size), q.size)
        else:
            hits = tree.query_ball_point(
                arrs.mentee_xyz[q], r=ub, workers=workers, return_sorted=False
            )
            lengths = np.fromiter((len(h) for h in hits), dtype=np.int64, count=q.size)
            rows = np.repeat(q, lengths)
            cols = (
                np.concatenate([np.asarray(h, dtype=np.int64) for h in hits])
                if rows.size
                else np.zeros(0, dtype=np.int64)
            )
        chord = np.linalg.norm(arrs.mentee_xyz[rows] - xyz[cols], axis=1)
        return rows, tree_mentors[cols], chord
    k = min(k, tree_mentors.size)
    dist, pos = tree.query(arrs.mentee_xyz[q], k=k, distance_upper_bound=ub, workers=workers)
    dist = np.asarray(dist).reshape(q.size, k)
    pos = np.asarray(pos).reshape(q.size, k)
    found = pos < tree_mentors.size
    if k < tree_mentors.size:
        saturated[q[found[:, -1]]] = True
    rows = np.broadcast_to(q[:, None], pos.shape)[found]
    return rows, tree_mentors[pos[found]], dist[found]


def _take(index: npt.NDArray[Any], *columns: npt.NDArray[Any]) -> list[npt.NDArray[Any]]:
    return [c[index] for c in columns]


def _shared_languages(arrs: ProblemArrays, e: IntArray, m: IntArray) -> IntArray:
    both = arrs.mentee_lang[e] & arrs.mentor_lang[m]
    return np.asarray(np.bitwise_count(both).sum(axis=1), dtype=np.int64)


def generate(
    arrs: ProblemArrays, policy: Policy, run_date: date, only: BoolArray | None = None
) -> CandidateArcs:
    """Candidate arcs of every mentee (the shortlist, see the module docstring), or, with
    ``only``, every feasible arc of those mentees (no cap, exhaustive by radius)."""
    del run_date  # ages and background checks are already resolved in ``arrs``
    cap = None if only is not None else policy.max_candidates_per_mentee
    k = None if cap is None else cap + QUERY_SLACK
    saturated = np.zeros(len(arrs.mentees), dtype=np.bool_)
    by_programme = programme_mentors(arrs)
    checked_by_programme = programme_mentors(arrs, arrs.mentor_checked_programmes)
    parts: list[tuple[IntArray, IntArray, IntArray, IntArray, FloatArray]] = []
    eligible_by_programme: list[IntArray] = []
    for p in range(len(arrs.programmes)):
        eligible = eligible_mentees(arrs, p)
        eligible_by_programme.append(np.flatnonzero(eligible))
        if only is not None:
            eligible &= only
        mentors_p = by_programme[p]
        mentors_p = mentors_p[arrs.mentor_remaining[mentors_p] > 0]
        if arrs.programme_remaining[p] == 0 or mentors_p.size == 0 or not eligible.any():
            continue
        if k is None:
            checked = checked_by_programme[p]
            parts.extend(_every_option(arrs, p, eligible, mentors_p, checked, saturated))
            continue
        for b in range(len(NEEDS)):
            bit = 1 << b
            if not arrs.programme_needs[p] & bit:
                continue
            wanting = eligible & ((arrs.mentee_open & bit) != 0)
            skilled = mentors_p[(arrs.mentor_skills[mentors_p] & bit) != 0]
            for minors in (False, True):
                q = np.flatnonzero(wanting & (arrs.mentee_minor == minors))
                pool = (
                    skilled[np.isin(skilled, checked_by_programme[p], assume_unique=True)]
                    if minors
                    else skilled
                )
                if q.size == 0 or pool.size == 0:
                    continue
                xyz = arrs.mentor_xyz[pool]
                # Slightly enlarged bound: exact reach is re-checked on km below.
                ub = km_to_chord(float(arrs.mentee_travel[q].max())) * (1 + 1e-9) + 1e-12
                found = [_query(xyz, pool, arrs, q, k, ub, saturated)]
                if arrs.programme_remote[p]:
                    rq = q[arrs.mentee_remote[q]]
                    rpool = pool[arrs.mentor_remote[pool]]
                    rxyz = arrs.mentor_xyz[rpool]
                    found.append(_query(rxyz, rpool, arrs, rq, k, np.inf, saturated))
                for e, m, chord in found:
                    if e.size:
                        parts.append((e, m, np.full(e.size, p), np.full(e.size, b), chord))
    return _finish(arrs, policy, parts, cap, tuple(eligible_by_programme), saturated)


def _every_option(
    arrs: ProblemArrays,
    p: int,
    eligible: BoolArray,
    mentors_p: IntArray,
    checked: IntArray,
    saturated: BoolArray,
) -> list[tuple[IntArray, IntArray, IntArray, IntArray, FloatArray]]:
    """Every (mentee, mentor) pair of programme ``p`` within reach (radius queries, and
    every remote-ready pair where remote is allowed) that shares a need the programme
    covers, with the mentee's highest-ranked such need: one k-d tree per programme and
    age group, where the shortlist needs one per need (its K nearest differ by need),
    and no duplicate pair across needs (measured at 100k: 3,106 trees → about 600)."""
    needs = arrs.programme_needs[p]
    skilled = mentors_p[(arrs.mentor_skills[mentors_p] & needs) != 0]
    wanting = eligible & ((arrs.mentee_open & needs) != 0)
    parts = []
    for minors in (False, True):
        q = np.flatnonzero(wanting & (arrs.mentee_minor == minors))
        pool = skilled[np.isin(skilled, checked, assume_unique=True)] if minors else skilled
        if q.size == 0 or pool.size == 0:
            continue
        # Each mentee's own reach (the group's largest, as the shortlist uses, returned
        # three times the pairs at 40k, all dropped on km afterwards); slightly enlarged:
        # exact reach is re-checked on km in ``_finish``.
        reach = km_to_chords(arrs.mentee_travel[q].astype(np.float64)) * (1 + 1e-9) + 1e-12
        found = [_query(arrs.mentor_xyz[pool], pool, arrs, q, None, reach, saturated)]
        if arrs.programme_remote[p]:
            rq, rpool = q[arrs.mentee_remote[q]], pool[arrs.mentor_remote[pool]]
            found.append(_query(arrs.mentor_xyz[rpool], rpool, arrs, rq, None, np.inf, saturated))
        for e, m, chord in found:
            shared = arrs.mentee_open[e] & arrs.mentor_skills[m] & needs
            keep = shared != 0
            e, m, chord, shared = e[keep], m[keep], chord[keep], shared[keep]
            if e.size == 0:
                continue
            # The mentee's highest-ranked shared need (lowest rank; absent: NO_RANK).
            ranks = np.where(
                (shared[:, None] >> np.arange(len(NEEDS))) & 1,
                arrs.mentee_rank[e],
                NO_RANK,
            )
            best = np.argmin(ranks, axis=1).astype(np.int64)
            parts.append((e, m, np.full(e.size, p), best, chord))
    return parts


def _finish(
    arrs: ProblemArrays,
    policy: Policy,
    parts: list[tuple[IntArray, IntArray, IntArray, IntArray, FloatArray]],
    cap: int | None,
    eligible_by_programme: tuple[IntArray, ...],
    saturated: BoolArray,
) -> CandidateArcs:
    if parts:
        e, m, p, b = (
            np.concatenate([x[i] for x in parts]).astype(np.int64, copy=False) for i in range(4)
        )
        km = chord_to_km(np.concatenate([x[4] for x in parts]))
        parts.clear()  # copied: let the pieces go
    else:
        e = m = p = b = np.zeros(0, dtype=np.int64)
        km = np.zeros(0)
    # Each step below narrows an index into these raw pairs, and every column is taken
    # once at the end: copying all columns at each step held three copies of the
    # national pairs at once (18.7M raw pairs; peak 3.7 GiB).

    # Rule 4 with the mentor's own travel distance; remote only where everyone agrees.
    in_person = km <= np.minimum(arrs.mentee_travel[e], arrs.mentor_travel[m])
    remote = ~in_person & arrs.programme_remote[p] & arrs.mentee_remote[e] & arrs.mentor_remote[m]
    keep = in_person | remote
    del in_person
    shared = _shared_languages(arrs, e, m)
    # Rule 6: a shared language when both list languages; never-again pairs.
    keep &= (shared > 0) | ~arrs.mentee_has_lang[e] | ~arrs.mentor_has_lang[m]
    if arrs.excluded_keys.size:
        # Few excluded pairs, many arcs: binary search beats a sort of all the keys.
        pair = e * len(arrs.mentors) + m
        at = np.minimum(np.searchsorted(arrs.excluded_keys, pair), arrs.excluded_keys.size - 1)
        keep &= arrs.excluded_keys[at] != pair
        del pair, at
    kept = np.flatnonzero(keep)
    del keep

    # One arc per (mentee, mentor, programme): the highest-ranked need (other terms
    # do not depend on the need). Ranks are < 8, so (key, rank) packs in one int64.
    rank = arrs.mentee_rank[e[kept], b[kept]].astype(np.int64)
    n_m, n_p = len(arrs.mentors), max(1, len(arrs.programmes))
    key = (e[kept] * n_m + m[kept]) * n_p + p[kept]
    order = np.argsort(key * 8 + rank, kind="stable")
    key_sorted = key[order]
    del key
    first = np.ones(order.size, dtype=np.bool_)
    first[1:] = key_sorted[1:] != key_sorted[:-1]
    del key_sorted
    unique = order[first]
    rank, sel = rank[unique], kept[unique]
    del order, first, unique, kept

    w, h = policy.weights, policy.distance_half_km
    wh = float(w.distance) * h  # same operation order as scoring.distance_points
    remote_s, km_s = remote[sel], km[sel]
    score = (
        w.need_rank * (len(NEEDS) - rank)
        + np.where(remote_s, 0, np.floor(wh / (h + km_s) + 0.5).astype(np.int64))
        + np.where(remote_s, w.remote, 0)
        + w.shared_language * np.minimum(MAX_SHARED_LANGUAGES, shared[sel])
        + arrs.mentee_priority[e[sel]]
    ).astype(np.int64)
    del rank, remote_s

    # Deterministic order (mentee, score desc, distance, mentor, programme), then the
    # per-mentee cap. The arcs are in (mentee, mentor, programme) order here, which a
    # stable sort keeps among ties: two keys suffice, (mentee, −score) packed in one
    # integer (2.4 s → 1.2 s for the 5 M national arcs, against five keys).
    lowest = int(score.min()) if score.size else 0
    span = (int(score.max()) if score.size else 0) - lowest + 1
    order = np.lexsort((km_s, e[sel] * span + (span - 1 - (score - lowest))))
    del km_s
    score, sel = score[order], sel[order]
    del order
    # One column at a time, each raw one freed as soon as it is taken.
    e, m, p, b = e[sel], m[sel], p[sel], b[sel]
    km, remote, shared = km[sel], remote[sel], shared[sel]
    considered = int(e.size)
    capped = 0
    columns = (e, m, p, b, km, remote, shared, score)
    omitted: CandidateArcs | None = None
    if cap is not None and e.size:
        starts = np.flatnonzero(np.r_[True, e[1:] != e[:-1]])
        counts = np.diff(np.r_[starts, e.size])
        pos = np.arange(e.size) - np.repeat(starts, counts)
        capped = int((counts > cap).sum())
        keep = pos < cap
        omitted = _arcs(_take(~keep, *columns), 0, 0, eligible_by_programme, saturated)
        columns = tuple(_take(keep, *columns))  # type: ignore[assignment]
    arcs = _arcs(list(columns), considered, capped, eligible_by_programme, saturated)
    return dataclasses.replace(arcs, omitted=omitted)


def _arcs(
    columns: list[npt.NDArray[Any]],
    considered: int,
    capped: int,
    eligible_by_programme: tuple[IntArray, ...],
    saturated: BoolArray,
) -> CandidateArcs:
    e, m, p, b, km, remote, shared, score = columns
    return CandidateArcs(
        mentee=e,
        mentor=m,
        programme=p,
        need=b,
        remote=remote,
        distance_km=km,
        shared_languages=shared,
        score=score,
        considered=considered,
        capped_mentees=capped,
        eligible_by_programme=eligible_by_programme,
        saturated=saturated,
    )


def merge(base: CandidateArcs, extra: CandidateArcs, n_mentors: int, n_progs: int) -> CandidateArcs:
    """``base`` with the arcs of ``extra`` whose (mentee, mentor, programme) it lacks, or
    that score better there (another need), in the documented order."""
    cols = [
        np.concatenate([getattr(base, f), getattr(extra, f)])
        for f in ("mentee", "mentor", "programme", "need", "distance_km", "remote")
    ]
    cols += [
        np.concatenate([base.shared_languages, extra.shared_languages]),
        np.concatenate([base.score, extra.score]),
    ]
    e, m, p, b, km, remote, shared, score = cols
    key = (e * n_mentors + m) * max(1, n_progs) + p
    order = np.lexsort((-score, key))
    first = np.ones(order.size, dtype=np.bool_)
    first[1:] = key[order][1:] != key[order][:-1]
    sel = order[first]
    e, m, p, b, km, remote, shared, score = _take(sel, e, m, p, b, km, remote, shared, score)
    lowest = int(score.min()) if score.size else 0
    span = (int(score.max()) if score.size else 0) - lowest + 1
    order = np.lexsort((p, m, km, e * span + (span - 1 - (score - lowest))))
    columns = _take(order, e, m, p, b, km, remote, shared, score)
    return _arcs(
        columns, base.considered, base.capped_mentees, base.eligible_by_programme, base.saturated
    )
