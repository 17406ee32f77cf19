"""Network flows on candidate arcs: the flow relaxation of a run, solved component by
component, and the cheap steps that turn its solution into a feasible one (programme
re-assignment, residual repair, greedy fill). See :mod:`app.matching.solver`."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from app.matching import netflow
from app.matching.arrays import IntArray
from app.matching.candidates import CandidateArcs
from app.matching.monitor import UNWATCHED, Monitor

RELAXATION_BATCH_ARCS = 20_000
"""Components smaller than this share one flow solve (fewer solver calls)."""


def components(arcs: CandidateArcs, n_mentees: int, n_mentors: int, n_progs: int) -> IntArray:
    """Component label of every arc (mentees, mentors and programmes as nodes)."""
    n = n_mentees + n_mentors + n_progs
    rows = np.concatenate([arcs.mentee, arcs.mentee])
    cols = np.concatenate([n_mentees + arcs.mentor, n_mentees + n_mentors + arcs.programme])
    graph = coo_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    del count
    return np.asarray(labels[arcs.mentee], dtype=np.int64)


def _single_programme_mentors(arcs: CandidateArcs, n_mentors: int) -> IntArray:
    """Programme of each mentor whose arcs all belong to one programme, else -1."""
    lo = np.full(n_mentors, np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(n_mentors, -1, dtype=np.int64)
    np.minimum.at(lo, arcs.mentor, arcs.programme)
    np.maximum.at(hi, arcs.mentor, arcs.programme)
    return np.where(lo == hi, hi, -1)


def _solve_flow(
    tails: IntArray,
    heads: IntArray,
    caps: IntArray,
    costs: IntArray,
    n_nodes: int,
    supply: int,
    bypass: bool,
) -> tuple[IntArray, int]:
    """Min-cost flow from node 0 (source) to node 1 (sink): the flow of each given arc
    and the flow's cost."""
    if bypass:
        tails, heads = np.r_[tails, 0], np.r_[heads, 1]
        caps, costs = np.r_[caps, supply], np.r_[costs, 0]
    supplies = np.zeros(n_nodes, dtype=np.int64)
    supplies[0], supplies[1] = supply, -supply
    return netflow.solve(tails, heads, caps, costs, supplies, max_flow=not bypass)


def relaxation(
    arcs: CandidateArcs,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
    quality_first: bool,
) -> tuple[IntArray, float]:
    """Arcs chosen by the flow relaxation, and the seconds spent building it.

    Nodes are numbered compactly (only the mentees, mentors and programmes that appear
    in ``arcs``), so a call on a small subset of the arcs costs in proportion to it."""
    t0 = time.perf_counter()
    n_m = mentor_remaining.size
    # Best arc per (mentee, mentor): arcs are sorted by mentee then score desc, so the
    # first occurrence of each pair is its best programme option.
    _, pair_arc = np.unique(arcs.mentee * n_m + arcs.mentor, return_index=True)
    pair_arc = np.sort(pair_arc)
    used_mentees, e_of = np.unique(arcs.mentee[pair_arc], return_inverse=True)
    used_mentors, m_of = np.unique(arcs.mentor[pair_arc], return_inverse=True)
    single = _single_programme_mentors(arcs, n_m)
    routed = single[used_mentors]
    via_p = routed >= 0
    used_progs, p_of = np.unique(routed[via_p], return_inverse=True)
    n_e, n_mm, n_pp = used_mentees.size, used_mentors.size, used_progs.size
    mentor_head = np.ones(n_mm, dtype=np.int64)
    mentor_head[via_p] = 2 + n_e + n_mm + p_of
    tails = np.concatenate(
        [
            np.zeros(n_e, dtype=np.int64),
            2 + e_of,
            2 + n_e + np.arange(n_mm),
            2 + n_e + n_mm + np.arange(n_pp),
        ]
    )
    heads = np.concatenate(
        [
            2 + np.arange(n_e),
            2 + n_e + m_of,
            mentor_head,
            np.ones(n_pp, dtype=np.int64),
        ]
    )
    caps = np.concatenate(
        [
            np.ones(n_e + pair_arc.size, dtype=np.int64),
            mentor_remaining[used_mentors],
            programme_remaining[used_progs],
        ]
    )
    costs = np.zeros(tails.size, dtype=np.int64)
    costs[n_e : n_e + pair_arc.size] = -arcs.score[pair_arc]
    t1 = time.perf_counter()
    flows, _ = _solve_flow(tails, heads, caps, costs, 2 + n_e + n_mm + n_pp, n_e, quality_first)
    flows = flows[n_e : n_e + pair_arc.size]
    return pair_arc[flows > 0], t1 - t0


def batches(labels: IntArray, min_arcs: int = RELAXATION_BATCH_ARCS) -> list[IntArray]:
    """Arc indices grouped by component, small components pooled up to ``min_arcs``."""
    order = np.argsort(labels, kind="stable")
    starts = np.flatnonzero(np.r_[True, labels[order][1:] != labels[order][:-1]])
    ends = np.r_[starts[1:], order.size]
    out: list[IntArray] = []
    pending: list[IntArray] = []
    size = 0
    for s, t in zip(starts.tolist(), ends.tolist(), strict=True):
        pending.append(order[s:t])
        size += t - s
        if size >= min_arcs:
            out.append(np.sort(np.concatenate(pending)))
            pending, size = [], 0
    if pending:
        out.append(np.sort(np.concatenate(pending)))
    return out


def relaxation_by_component(
    arcs: CandidateArcs,
    labels: IntArray,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
    quality_first: bool,
    monitor: Monitor = UNWATCHED,
) -> tuple[IntArray, float]:
    """The flow relaxation solved component by component (same optimum as one flow over
    their union, several times faster: cost scaling is superlinear in the graph size)."""
    chosen: list[IntArray] = []
    build_s = 0.0
    todo = batches(labels)
    for done, idx in enumerate(todo):
        monitor.checkpoint(done / len(todo))
        part, b = relaxation(
            subset(arcs, idx), mentor_remaining, programme_remaining, quality_first
        )
        chosen.append(idx[part])
        build_s += b
    return np.sort(np.concatenate(chosen)), build_s


def reassign(
    arcs: CandidateArcs, idx: IntArray, chosen: IntArray, programme_remaining: IntArray
) -> tuple[IntArray, bool]:
    """Re-assign programmes of the chosen (mentee, mentor) pairs within capacities.

    ``idx``: the component's arcs; ``chosen``: relaxation arcs in it. Returns the arcs
    kept and whether all pairs fitted at no score loss (then the bound is reached)."""
    n_m = int(arcs.mentor.max()) + 1
    pair_key = arcs.mentee[chosen] * n_m + arcs.mentor[chosen]
    key = arcs.mentee[idx] * n_m + arcs.mentor[idx]
    options = idx[np.isin(key, pair_key)]
    opt_pair = np.searchsorted(np.sort(pair_key), arcs.mentee[options] * n_m + arcs.mentor[options])
    order = np.argsort(pair_key)
    best = arcs.score[chosen][order]
    progs, prog_node = np.unique(arcs.programme[options], return_inverse=True)
    n_pairs = chosen.size
    tails = np.concatenate(
        [np.zeros(n_pairs, dtype=np.int64), 2 + opt_pair, 2 + n_pairs + np.arange(progs.size)]
    )
    heads = np.concatenate(
        [2 + np.arange(n_pairs), 2 + n_pairs + prog_node, np.ones(progs.size, dtype=np.int64)]
    )
    caps = np.concatenate(
        [np.ones(n_pairs + options.size, dtype=np.int64), programme_remaining[progs]]
    )
    costs = np.concatenate(
        [
            np.zeros(n_pairs, dtype=np.int64),
            best[opt_pair] - arcs.score[options],
            np.zeros(progs.size, dtype=np.int64),
        ]
    )
    flows, cost = _solve_flow(tails, heads, caps, costs, 2 + n_pairs + progs.size, n_pairs, False)
    flows = flows[n_pairs : n_pairs + options.size]
    kept = np.sort(options[flows > 0])
    return kept, kept.size == n_pairs and cost == 0


def subset(arcs: CandidateArcs, sub: IntArray) -> CandidateArcs:
    return dataclasses.replace(
        arcs,
        mentee=arcs.mentee[sub],
        mentor=arcs.mentor[sub],
        programme=arcs.programme[sub],
        need=arcs.need[sub],
        remote=arcs.remote[sub],
        distance_km=arcs.distance_km[sub],
        shared_languages=arcs.shared_languages[sub],
        score=arcs.score[sub],
    )


def residual_repair(
    arcs: CandidateArcs,
    idx: IntArray,
    kept: IntArray,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
    quality_first: bool,
    rounds: int = 4,
) -> IntArray:
    """Grow a feasible solution: solve the flow relaxation again on the capacity left
    for the young people still unmatched, re-assign programmes, repeat. Fast, and
    usually within a fraction of a percent of the bound."""
    current = kept
    n_e = int(arcs.mentee.max()) + 1
    for _ in range(rounds):
        mentor_left = mentor_remaining - np.bincount(
            arcs.mentor[current], minlength=mentor_remaining.size
        )
        prog_left = programme_remaining - np.bincount(
            arcs.programme[current], minlength=programme_remaining.size
        )
        matched = np.zeros(n_e, dtype=np.bool_)
        matched[arcs.mentee[current]] = True
        sub = idx[
            ~matched[arcs.mentee[idx]]
            & (mentor_left[arcs.mentor[idx]] > 0)
            & (prog_left[arcs.programme[idx]] > 0)
        ]
        if sub.size == 0:
            break
        part = subset(arcs, sub)
        chosen, _ = relaxation(part, mentor_left, prog_left, quality_first)
        if chosen.size == 0:
            break
        fitted, _ = reassign(part, np.arange(sub.size), chosen, prog_left)
        if fitted.size == 0:
            break
        current = np.sort(np.concatenate([current, sub[fitted]]))
    return current


def greedy_fill(
    arcs: CandidateArcs,
    idx: IntArray,
    kept: IntArray,
    mentor_left: IntArray,
    programme_left: IntArray,
) -> IntArray:
    """Add arcs of unmatched mentees while capacity remains (best score first)."""
    mentor_left = mentor_left.copy()
    programme_left = programme_left.copy()
    np.subtract.at(mentor_left, arcs.mentor[kept], 1)
    np.subtract.at(programme_left, arcs.programme[kept], 1)
    matched = set(arcs.mentee[kept].tolist())
    extra: list[int] = []
    order = idx[np.lexsort((idx, -arcs.score[idx]))]
    for a in order.tolist():
        e, m, p = int(arcs.mentee[a]), int(arcs.mentor[a]), int(arcs.programme[a])
        if e not in matched and mentor_left[m] > 0 and programme_left[p] > 0:
            matched.add(e)
            mentor_left[m] -= 1
            programme_left[p] -= 1
            extra.append(a)
    return np.sort(np.concatenate([kept, np.array(extra, dtype=np.int64)]))


def score_cap(
    arcs: CandidateArcs, idx: IntArray, mentor_remaining: IntArray, programme_remaining: IntArray
) -> int:
    """Best total score of the component whatever the count (flow relaxation with a
    bypass): a valid score bound for any objective."""
    part, _ = relaxation(subset(arcs, idx), mentor_remaining, programme_remaining, True)
    return int(arcs.score[idx[part]].sum())
