"""Independent exact reference: every feasible quadruple by the scalar rules (no cap,
no spatial index), optimised by CP-SAT on the full model."""

from __future__ import annotations

from ortools.sat.python import cp_model

from app.matching import MatchingProblem
from app.matching.context import build_context
from app.matching.geo import great_circle_km
from app.matching.rules import check_proposal, meeting_mode
from app.matching.scoring import score_pair

Quad = tuple[str, str, str, str, int]  # mentee, mentor, programme, need, score


def feasible_quads(problem: MatchingProblem) -> list[Quad]:
    ctx = build_context(problem)
    out: list[Quad] = []
    for e in problem.mentees:
        covered = ctx.covered_needs.get(e.id, frozenset())
        for m in problem.mentors:
            km = great_circle_km(e.lat, e.lon, m.lat, m.lon)
            for p in problem.programmes:
                for need in e.needs:
                    if check_proposal(e, m, p, need, km, problem.run_date, covered, ctx.excluded):
                        continue
                    mode = meeting_mode(km, e, m, p)
                    assert mode is not None
                    terms = score_pair(
                        problem.policy,
                        e,
                        need,
                        mode,
                        km,
                        len(e.languages & m.languages),
                        e.id in ctx.ever_supported,
                        problem.run_date,
                    )
                    out.append((e.id, m.id, p.id, need, terms.total))
    return out


def exact_optimum(problem: MatchingProblem) -> tuple[int, int]:
    """(matched, total score) optimal for the policy's objective."""
    ctx = build_context(problem)
    quads = feasible_quads(problem)
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(len(quads))]
    for key, limit in (
        (0, {e.id: 1 for e in problem.mentees}),
        (1, ctx.mentor_remaining),
        (2, ctx.programme_remaining),
    ):
        groups: dict[str, list[cp_model.IntVar]] = {}
        for q, var in zip(quads, x, strict=True):
            groups.setdefault(str(q[key]), []).append(var)
        for gid, vs in groups.items():
            model.add(sum(vs) <= limit[gid])
    count = sum(x)
    score = sum(q[4] * v for q, v in zip(quads, x, strict=True))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    if problem.policy.objective == "lexicographic":
        model.maximize(count)
        assert solver.solve(model) == cp_model.OPTIMAL
        best_count = round(solver.objective_value)
        model.add(count >= best_count)
    model.maximize(score)
    assert solver.solve(model) == cp_model.OPTIMAL
    chosen = [q for q, v in zip(quads, x, strict=True) if solver.value(v)]
    return len(chosen), sum(q[4] for q in chosen)


def exact_optimum_milp(problem: MatchingProblem) -> tuple[int, int]:
    """The same optimum as :func:`exact_optimum`, by HiGHS (scipy ``milp``): the count
    first, then the score at that count; much faster on instances of a few thousand
    options."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix, vstack

    ctx = build_context(problem)
    quads = feasible_quads(problem)
    if not quads:
        return 0, 0
    n = len(quads)
    rows = []
    uppers: list[float] = []
    for key, limit in (
        (0, {e.id: 1 for e in problem.mentees}),
        (1, ctx.mentor_remaining),
        (2, ctx.programme_remaining),
    ):
        groups: dict[str, list[int]] = {}
        for j, q in enumerate(quads):
            groups.setdefault(str(q[key]), []).append(j)
        for gid, members in sorted(groups.items()):
            rows.append(members)
            uppers.append(float(limit[gid]))
    r = [i for i, members in enumerate(rows) for _ in members]
    c = [j for members in rows for j in members]
    matrix = csr_matrix((np.ones(len(c)), (r, c)), shape=(len(rows), n))
    score = np.array([q[4] for q in quads], dtype=np.float64)
    ones = np.ones(n)
    cons = [LinearConstraint(matrix, -np.inf, np.array(uppers))]
    bounds = Bounds(0, 1)

    def solve(weights: np.ndarray, constraints: list[LinearConstraint]) -> np.ndarray:
        # The LP first (HiGHS simplex: a vertex): when integral, it is the optimum of
        # the integer programme too; else branch and bound.
        lp = milp(-weights, constraints=constraints, integrality=np.zeros(n), bounds=bounds)
        assert lp.status == 0
        if np.all(np.abs(lp.x - np.round(lp.x)) < 1e-9):
            return np.round(lp.x)
        ip = milp(-weights, constraints=constraints, integrality=np.ones(n), bounds=bounds)
        assert ip.status == 0
        return np.round(ip.x)

    if problem.policy.objective == "lexicographic":
        best = round(solve(ones, cons).sum())
        cons = [
            LinearConstraint(
                vstack([matrix, csr_matrix(ones)]),
                np.r_[np.full(len(rows), -np.inf), best],
                np.r_[uppers, np.inf],
            )
        ]
    x = solve(score, cons) > 0.5
    return int(x.sum()), round(float(score[x].sum()))


def most_pairs_kept(problem: MatchingProblem) -> tuple[int, int]:
    """(the maximum count, the most current pairs kept among the solutions of that
    count): the fewest changes a rematch is forced to make, by HiGHS on every option."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix, vstack

    ctx = build_context(problem)
    quads = feasible_quads(problem)
    current = {(p.mentee_id, p.mentor_id, p.programme_id, p.need) for p in problem.current_pairs}
    if not quads:
        return 0, 0
    n = len(quads)
    rows, uppers = [], []
    for key, limit in (
        (0, {e.id: 1 for e in problem.mentees}),
        (1, ctx.mentor_remaining),
        (2, ctx.programme_remaining),
    ):
        groups: dict[str, list[int]] = {}
        for j, q in enumerate(quads):
            groups.setdefault(str(q[key]), []).append(j)
        for gid, members in sorted(groups.items()):
            rows.append(members)
            uppers.append(float(limit[gid]))
    r = [i for i, members in enumerate(rows) for _ in members]
    c = [j for members in rows for j in members]
    matrix = csr_matrix((np.ones(len(c)), (r, c)), shape=(len(rows), n))
    ones, bounds, integral = np.ones(n), Bounds(0, 1), np.ones(n)
    cons = [LinearConstraint(matrix, -np.inf, np.array(uppers))]
    first = milp(-ones, constraints=cons, integrality=integral, bounds=bounds)
    assert first.status == 0
    best = round(-first.fun)
    kept = np.array([float(q[:4] in current) for q in quads])
    cons = [
        LinearConstraint(
            vstack([matrix, csr_matrix(ones)]),
            np.r_[np.full(len(rows), -np.inf), best],
            np.r_[uppers, np.inf],
        )
    ]
    second = milp(-kept, constraints=cons, integrality=integral, bounds=bounds)
    assert second.status == 0
    return best, round(-second.fun)
