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
