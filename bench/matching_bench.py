"""Benchmark of the matching engine on synthetic populations (not a test).

    python -m bench.matching_bench                 # 1k, 10k, 100k and national
    python -m bench.matching_bench --sizes 1k 10k  # a subset
    python -m bench.matching_bench --cap 24        # from a shortlist, completed by pricing
    python -m bench.matching_bench --no-pricing    # the shortlist alone
    python -m bench.matching_bench --churn         # rematch churn after small changes

"all-options max" is the engine's bound over every feasible option (equal to the
number matched when the status is optimal). Churn: the run's proposals become the
current pairs of a rematch after 1 % of the young people leave, 5 % more arrive, or
1 % of the volunteers' capacities change by one; "changed" counts the pairs not
proposed again, "forced" the fewest any rematch must change (pairs of young people
who left, pairs beyond a volunteer's new capacity).

Each size runs in its own process so that its peak memory is measured alone (peak
resident set of that process, population generation included). Two baselines run on
the same candidate arcs: best-score-first greedy, and first-come-first-served (longest
waiting first, each taking the nearest free mentor: what a back office does by hand).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import resource
import subprocess
import sys
import time

import numpy as np

from app.matching import CurrentPair, MatchingProblem, MatchingResult, Policy, solve
from app.matching.arrays import build_arrays
from app.matching.candidates import CandidateArcs, generate
from app.matching.context import build_context
from bench.population import synthetic_problem

SIZES = {
    "1k": (1_000, 500),
    "10k": (10_000, 5_000),
    "100k": (100_000, 50_000),
    "national": (160_000, 80_000),
}


def _pick(
    arcs: CandidateArcs, order: np.ndarray, mentor_left: np.ndarray, prog_left: np.ndarray
) -> tuple[int, int]:
    """Take arcs in ``order`` while the mentee is free and capacity remains."""
    mentor_left, prog_left = mentor_left.copy(), prog_left.copy()
    taken: set[int] = set()
    score = 0
    e_all, m_all, p_all, s_all = (
        x.tolist() for x in (arcs.mentee, arcs.mentor, arcs.programme, arcs.score)
    )
    for a in order.tolist():
        e, m, p = e_all[a], m_all[a], p_all[a]
        if e not in taken and mentor_left[m] > 0 and prog_left[p] > 0:
            taken.add(e)
            mentor_left[m] -= 1
            prog_left[p] -= 1
            score += s_all[a]
    return len(taken), score


def baselines(problem) -> dict[str, tuple[int, int]]:
    arrs = build_arrays(problem, build_context(problem))
    arcs = generate(arrs, problem.policy, problem.run_date)
    idx = np.arange(len(arcs))
    greedy = _pick(
        arcs, idx[np.lexsort((idx, -arcs.score))], arrs.mentor_remaining, arrs.programme_remaining
    )
    waited = np.array([(problem.run_date - m.waiting_since).days for m in arrs.mentees])
    # Longest waiting first (then id), each mentee's arcs nearest first.
    order = np.lexsort((idx, arcs.distance_km, arcs.remote, arcs.mentee, -waited[arcs.mentee]))
    fcfs = _pick(arcs, order, arrs.mentor_remaining, arrs.programme_remaining)
    return {"greedy": greedy, "fcfs": fcfs}


def _current(result: MatchingResult) -> tuple[CurrentPair, ...]:
    return tuple(
        CurrentPair(p.mentee_id, p.mentor_id, p.programme_id, p.need) for p in result.proposals
    )


def churn(problem: MatchingProblem, result: MatchingResult, seed: int) -> dict[str, object]:
    """Pairs changed by a rematch after each small change, against the fewest forced."""
    rng = random.Random(seed)
    current = _current(result)
    out: dict[str, object] = {}
    # 1 % of the young people leave.
    gone = set(rng.sample([m.id for m in problem.mentees], len(problem.mentees) // 100))
    left = dataclasses.replace(
        problem,
        mentees=tuple(m for m in problem.mentees if m.id not in gone),
        current_pairs=current,
    )
    forced = sum(p.mentee_id in gone for p in current)
    out["remove_1pct"] = _rematch(left, forced)
    # 5 % more young people: the run before saw the first 1/1.05 of them.
    n_before = round(len(problem.mentees) / 1.05)
    before = dataclasses.replace(problem, mentees=problem.mentees[:n_before])
    first = solve(before)
    out["add_5pct"] = _rematch(dataclasses.replace(problem, current_pairs=_current(first)), 0)
    # 1 % of the volunteers' capacities change by one.
    mentors = list(problem.mentors)
    load: dict[str, int] = {}
    for p in current:
        load[p.mentor_id] = load.get(p.mentor_id, 0) + 1
    running: dict[str, int] = {}
    for r in problem.running_matches:
        running[r.mentor_id] = running.get(r.mentor_id, 0) + 1
    forced = 0
    for i in rng.sample(range(len(mentors)), len(mentors) // 100):
        m = mentors[i]
        cap = max(1, min(5, m.capacity + rng.choice([-1, 1])))
        left_cap = max(0, cap - running.get(m.id, 0))
        forced += max(0, load.get(m.id, 0) - left_cap)
        mentors[i] = dataclasses.replace(m, capacity=cap)
    changed = dataclasses.replace(problem, mentors=tuple(mentors), current_pairs=current)
    out["capacity_1pct"] = _rematch(changed, forced)
    return out


def _rematch(problem: MatchingProblem, forced: int) -> dict[str, object]:
    t0 = time.perf_counter()
    result = solve(problem)
    reasons: dict[str, int] = {}
    for c in result.changes:
        reasons[c.reason] = reasons.get(c.reason, 0) + 1
    return {
        "changed": len(result.changes),
        "forced": forced,
        "reasons": reasons,
        "status": result.stats.status,
        "seconds": time.perf_counter() - t0,
    }


def run_one(
    name: str, cap: int | None, seed: int, pricing: bool = True, with_churn: bool = False
) -> dict[str, object]:
    n_mentees, n_mentors = SIZES[name]
    t0 = time.perf_counter()
    problem = synthetic_problem(
        n_mentees,
        n_mentors,
        seed=seed,
        policy=Policy(max_candidates_per_mentee=cap, pricing=pricing),
    )
    gen_s = time.perf_counter() - t0
    result = solve(problem)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    base = baselines(problem)
    s, t = result.stats, result.timings
    return {
        "size": name,
        "mentees": n_mentees,
        "mentors": n_mentors,
        "generate_s": gen_s,
        "candidates_s": t.candidates_s,
        "build_s": t.build_s,
        "solve_s": t.solve_s,
        "engine_s": t.candidates_s + t.build_s + t.solve_s,
        "explain_s": t.explain_s,
        "peak_mib": peak_mib,
        "arcs": s.candidates_kept,
        "considered": s.candidates_considered,
        "capped": s.capped_mentees,
        "components": s.components,
        "bound_components": s.mip_components,
        "matched": s.matched,
        "score": s.total_score,
        "bound_matched": s.bound_matched,
        "gap": s.gap,
        "status": s.status,
        "rounds": s.pricing_rounds,
        "options_added": s.options_added,
        "options_left_out": s.options_left_out,
        "time_limit_hit": s.time_limit_hit,
        "unmatched": s.unmatched_by_reason,
        "greedy": base["greedy"],
        "fcfs": base["fcfs"],
        "churn": churn(problem, result, seed) if with_churn else None,
    }


def table(rows: list[dict]) -> str:
    head = (
        "| size | mentees / mentors | arcs kept | candidates s | build s | solve s | **engine s** "
        "| explain s | peak MiB | matched | all-options max | score | gap | status "
        "| rounds / options added | greedy matched / score | FCFS matched / score |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        cells = [
            r["size"],
            f"{r['mentees']:,} / {r['mentors']:,}",
            f"{r['arcs']:,}",
            f"{r['candidates_s']:.2f}",
            f"{r['build_s']:.2f}",
            f"{r['solve_s']:.2f}",
            f"**{r['engine_s']:.2f}**",
            f"{r['explain_s']:.2f}",
            f"{r['peak_mib']:,.0f}",
            f"{r['matched']:,}",
            f"{r['bound_matched']:,}",
            f"{r['score']:,}",
            f"{r['gap']:.4%}",
            r["status"],
            f"{r['rounds']} / {r['options_added']:,}",
            f"{r['greedy'][0]:,} / {r['greedy'][1]:,}",
            f"{r['fcfs'][0]:,} / {r['fcfs'][1]:,}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    text = head + "\n".join(lines)
    churned = [r for r in rows if r.get("churn")]
    if churned:
        text += "\n\n| size | event | changed | forced | reasons | status | seconds |\n"
        text += "|---|---|---|---|---|---|---|\n"
        for r in churned:
            for event, c in r["churn"].items():
                text += (
                    f"| {r['size']} | {event} | {c['changed']:,} | {c['forced']:,} "
                    f"| {c['reasons']} | {c['status']} | {c['seconds']:.2f} |\n"
                )
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument(
        "--cap",
        type=int,
        default=Policy().max_candidates_per_mentee,
        help="a shortlist of this many options per young person (default: every option)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-pricing", action="store_true", help="the shortlist alone")
    parser.add_argument("--churn", action="store_true", help="measure rematch churn")
    parser.add_argument("--one", choices=list(SIZES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        row = run_one(args.one, args.cap, args.seed, not args.no_pricing, args.churn)
        print(json.dumps(row))
        return
    rows = []
    for name in args.sizes:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.matching_bench",
                "--one",
                name,
                *(["--cap", str(args.cap)] if args.cap is not None else []),
                "--seed",
                str(args.seed),
                *(["--no-pricing"] if args.no_pricing else []),
                *(["--churn"] if args.churn else []),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    print(table(rows))


if __name__ == "__main__":
    main()
