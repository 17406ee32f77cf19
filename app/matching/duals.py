"""Dual certificates: an upper bound valid for every feasible option, and the reduced
cost of an option left out of the candidate graph.

With weights ``W_a = β + score_a`` (``β`` above any component's total score for the
lexicographic objective, 0 for ``quality_first``), the LP of a run is

    max Σ W_a x_a   s.t.  Σ_{a∋e} x_a ≤ 1,  Σ_{a∋m} x_a ≤ cap_m,  Σ_{a∋p} x_a ≤ cap_p,  x ≥ 0.

Any ``u, v, π ≥ 0`` with ``u_e + v_m + π_p ≥ W_a`` for *every* feasible arc bounds it
(weak duality): ``Σ u + Σ cap_m v_m + Σ cap_p π_p ≥ β × count + score`` of every
feasible solution, hence a count bound ``⌊D / β⌋`` (scores are non-negative) and, at
that count, a score bound ``D − β × count``. Duals are obtained from programme prices
``λ`` (those of the solver's LP or Lagrangian search, 0 elsewhere) and the node
potentials of the b-matching with arc weights ``W − λ_p`` (a min-cost flow, solved
like the relaxation, potentials by label correction on its residual graph). They are
then *lifted*: ``u_e`` is raised to ``max_a (W_a − v_m − π_p)`` over the arcs of ``e``,
so the bound is valid by construction whatever the potentials' quality — their
quality only decides whether it is tight.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from app.matching import netflow
from app.matching.arrays import IntArray
from app.matching.candidates import CandidateArcs

MAX_LABEL_ROUNDS = 100_000
"""Safety stop of the label correction (each round relaxes the arcs leaving the nodes
whose label changed; the count of rounds is the depth of the shortest-path tree)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Certificate:
    beta: int
    u: IntArray  # per mentee
    v: IntArray  # per mentor
    pi: IntArray  # per programme (prices included)

    def reduced_costs(self, arcs: CandidateArcs) -> IntArray:
        """``W_a − u_e − v_m − π_p`` of each arc (≤ 0 on the arcs the duals cover)."""
        return np.asarray(
            self.beta
            + arcs.score
            - self.u[arcs.mentee]
            - self.v[arcs.mentor]
            - self.pi[arcs.programme],
            dtype=np.int64,
        )

    def lifted(self, arcs: CandidateArcs) -> Certificate:
        """The certificate made feasible for ``arcs`` too (``u_e`` raised where needed)."""
        if len(arcs) == 0:
            return self
        rc = self.reduced_costs(arcs)
        lift = np.zeros(self.u.size, dtype=np.int64)
        np.maximum.at(lift, arcs.mentee, rc)
        return dataclasses.replace(self, u=self.u + lift)

    def value(self, mentor_cap: IntArray, programme_cap: IntArray) -> int:
        return int(self.u.sum() + (mentor_cap * self.v).sum() + (programme_cap * self.pi).sum())


def certificate(
    arcs: CandidateArcs,
    beta: int,
    prices: IntArray,
    mentor_cap: IntArray,
    programme_cap: IntArray,
    n_mentees: int,
) -> Certificate:
    """Duals from the b-matching priced by ``prices`` (see the module docstring), lifted
    to cover every arc of ``arcs``."""
    n_m = mentor_cap.size
    zero = Certificate(
        beta,
        np.zeros(n_mentees, dtype=np.int64),
        np.zeros(n_m, dtype=np.int64),
        prices.astype(np.int64).copy(),
    )
    weight = beta + arcs.score - prices[arcs.programme]
    ok = np.flatnonzero(weight > 0)
    if ok.size == 0:
        return zero.lifted(arcs)
    # Best arc of each (mentee, mentor) pair by priced weight.
    order = ok[np.lexsort((ok, -weight[ok], arcs.mentor[ok], arcs.mentee[ok]))]
    pair = arcs.mentee[order] * n_m + arcs.mentor[order]
    first = np.r_[True, pair[1:] != pair[:-1]]
    pa = order[first]
    w = weight[pa].astype(np.int64)
    e_used, e_of = np.unique(arcs.mentee[pa], return_inverse=True)
    m_used, m_of = np.unique(arcs.mentor[pa], return_inverse=True)
    # Mentors whose arcs (all of them, priced or not) belong to one programme route
    # through that programme's node, as in the relaxation.
    lo = np.full(n_m, np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(n_m, -1, dtype=np.int64)
    np.minimum.at(lo, arcs.mentor, arcs.programme)
    np.maximum.at(hi, arcs.mentor, arcs.programme)
    routed = np.where(lo == hi, hi, -1)[m_used]
    via = routed >= 0
    p_used, p_of = np.unique(routed[via], return_inverse=True)
    ne, nm, npp = e_used.size, m_used.size, p_used.size
    # Nodes: 0 source, 1 sink, mentees, mentors, programme nodes.
    e_node, m_node, p_node = 2 + np.arange(ne), 2 + ne + np.arange(nm), 2 + ne + nm + np.arange(npp)
    m_head = np.ones(nm, dtype=np.int64)
    m_head[via] = p_node[p_of]
    tails = np.concatenate([np.zeros(ne, dtype=np.int64), e_node[e_of], m_node, p_node, [0]])
    heads = np.concatenate([e_node, m_node[m_of], m_head, np.ones(npp, dtype=np.int64), [1]])
    caps = np.concatenate(
        [np.ones(ne + pa.size, dtype=np.int64), mentor_cap[m_used], programme_cap[p_used], [ne]]
    )
    costs = np.concatenate([np.zeros(ne, dtype=np.int64), -w, np.zeros(nm + npp + 1, np.int64)])
    n_nodes = 2 + ne + nm + npp
    supplies = np.zeros(n_nodes, dtype=np.int64)
    supplies[0], supplies[1] = ne, -ne
    flow, _ = netflow.solve(tails, heads, caps, costs, supplies, max_flow=False)
    # Residual graph: forward where flow < capacity (mentee→mentor arcs always, as if
    # uncapacitated: the mentee's unit already limits them), backward where flow > 0.
    fwd = (flow < caps) | (np.arange(tails.size) >= ne) & (np.arange(tails.size) < ne + pa.size)
    back = flow > 0
    r_tail = np.concatenate([tails[fwd], heads[back]])
    r_head = np.concatenate([heads[fwd], tails[back]])
    r_cost = np.concatenate([costs[fwd], -costs[back]])
    phi = _potentials(n_nodes, r_tail, r_head, r_cost)
    u = np.zeros(n_mentees, dtype=np.int64)
    u[e_used] = np.maximum(0, phi[e_node] - phi[1])
    v = np.zeros(n_m, dtype=np.int64)
    v[m_used] = np.maximum(0, phi[m_head] - phi[m_node])
    pi = prices.astype(np.int64).copy()
    pi[p_used] += np.maximum(0, phi[1] - phi[p_node])
    return Certificate(beta, u, v, pi).lifted(arcs)


def _potentials(n: int, tail: IntArray, head: IntArray, cost: IntArray) -> IntArray:
    """Shortest distances from a virtual root joined to every node at cost 0 (the
    residual graph of an optimal flow has no negative cycle), by label correction:
    each round relaxes only the arcs leaving the nodes improved in the previous one."""
    order = np.argsort(tail, kind="stable")
    tail, head, cost = tail[order], head[order], cost[order]
    start = np.searchsorted(tail, np.arange(n + 1))
    dist = np.zeros(n, dtype=np.int64)
    active = np.unique(tail)
    for _ in range(MAX_LABEL_ROUNDS):
        if active.size == 0:
            return dist
        lo, hi = start[active], start[active + 1]
        counts = hi - lo
        total = int(counts.sum())
        if total == 0:
            return dist
        edge = np.repeat(lo - np.r_[0, np.cumsum(counts)[:-1]], counts) + np.arange(total)
        cand = dist[tail[edge]] + cost[edge]
        better = cand < dist[head[edge]]
        if not better.any():
            return dist
        h, c = head[edge][better], cand[better]
        before = dist[h].copy()
        np.minimum.at(dist, h, c)
        active = np.unique(h[dist[h] < before])
    raise RuntimeError("label correction did not converge (negative cycle?)")
