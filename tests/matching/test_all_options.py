"""The optimum over every feasible option, against an exact solver built from the
rules alone (every pair enumerated, HiGHS): matched count and score equal whenever the
status is ``optimal``; the shortlist alone says ``feasible`` when it may cost."""

import pytest

from app.matching import Policy, solve, validate
from tests.matching.adversarial import saturated_problem
from tests.matching.factories import random_problem
from tests.matching.reference import exact_optimum_milp

SHORTLIST = 24
"""A shortlist of 24 options per young person (K = 32 nearest per tree): the pricing path."""
SMALL_CAP = Policy(max_candidates_per_mentee=2)  # K = 10 nearest per tree


def check(pb):
    result = solve(pb)
    assert validate(pb, result) == []
    stats = result.stats
    best = exact_optimum_milp(pb)
    got = (stats.matched, stats.total_score)
    # Bounds are valid for every option, whatever the status.
    assert best[0] <= stats.bound_matched
    if stats.bound_matched == best[0]:
        assert best[1] <= stats.bound_score
    if stats.status == "optimal":
        assert got == best
        assert stats.gap == 0
        assert stats.options_left_out == 0
    return result, best


@pytest.mark.parametrize("seed", range(100))
def test_default_policy_on_random_instances(seed):
    result, _ = check(random_problem(seed, n_mentees=14, n_mentors=8, policy=Policy()))
    assert result.stats.status == "optimal"


@pytest.mark.parametrize("seed", range(40))
def test_default_policy_when_the_32_nearest_are_saturated(seed):
    result, _ = check(saturated_problem(seed))
    assert result.stats.status == "optimal"


@pytest.mark.parametrize("seed", range(40))
def test_a_shortlist_when_the_32_nearest_are_saturated(seed):
    result, _ = check(saturated_problem(seed, Policy(max_candidates_per_mentee=SHORTLIST)))
    assert result.stats.status == "optimal"


@pytest.mark.parametrize("seed", range(70))
def test_small_shortlist_is_completed_by_pricing(seed):
    pb = saturated_problem(seed, SMALL_CAP, near_mentors=(11, 16))
    result, _ = check(pb)
    assert result.stats.status == "optimal"


def test_pricing_matters_on_these_instances():
    # Without pricing, the shortlist's optimum falls short on some of them, and the
    # run says so (status feasible, the options it may have cost counted).
    short = 0
    for seed in range(40):
        pb = saturated_problem(seed, Policy(max_candidates_per_mentee=SHORTLIST, pricing=False))
        result = solve(pb)
        assert validate(pb, result) == []
        best = exact_optimum_milp(pb)
        if (result.stats.matched, result.stats.total_score) != best:
            short += 1
            assert result.stats.status == "feasible"
            assert result.stats.options_left_out > 0
            assert result.stats.gap > 0
    assert short >= 10


def test_the_completed_runs_priced_options_in():
    shortlist = Policy(max_candidates_per_mentee=SHORTLIST)
    added = [solve(saturated_problem(seed, shortlist)).stats.options_added for seed in range(20)]
    assert sum(a > 0 for a in added) >= 5


@pytest.mark.parametrize("seed", range(20))
def test_quality_first_over_every_option(seed):
    pb = saturated_problem(
        seed, Policy(objective="quality_first", max_candidates_per_mentee=SHORTLIST)
    )
    result, best = check(pb)
    assert result.stats.status == "optimal"
    assert result.stats.total_score == best[1]
