from datetime import date

import pytest

from app.matching import (
    MatchingProblem,
    Mentee,
    Policy,
    PolicyError,
    ProblemError,
    Support,
    Weights,
)
from tests.matching.factories import RUN, mentee, mentor, problem, programme


def test_valid_inputs_are_normalised_to_hashable_primitives():
    m = mentor(skills=["digital", "orientation"], languages=["FR", "en"])
    assert m.skills == frozenset({"digital", "orientation"})
    assert m.languages == frozenset({"fr", "en"})
    e = mentee(needs=["digital", "orientation"])
    assert e.needs == ("digital", "orientation")
    pb = problem([e], [m])
    assert isinstance(pb.mentees, tuple)


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (lambda: mentee(lat=91.0), "lat"),
        (lambda: mentee(lon="2.3"), "lon"),
        (lambda: mentee(needs=("cooking",)), "needs"),
        (lambda: mentee(needs=("digital", "digital")), "needs"),
        (lambda: mentee(rural_zone="FRR++"), "rural_zone"),
        (lambda: mentee(birth_year=1800), "birth_year"),
        (lambda: mentee(max_travel_km=-1.0), "max_travel_km"),
        (lambda: mentee(eid=""), "id"),
        (lambda: mentor(capacity=6), "capacity"),
        (lambda: mentor(capacity=0), "capacity"),
        (lambda: mentor(background_check_valid_until="2030-01-01"), "background_check_valid_until"),
        (lambda: programme(min_age=20, max_age=10), "min_age"),
        (lambda: programme(territories="75"), "territories"),
        (lambda: Support("e1", "digital", date(2025, 2, 1), date(2025, 1, 1)), "end"),
    ],
)
def test_invalid_fields_raise_problem_error_naming_the_field(factory, field):
    with pytest.raises(ProblemError) as info:
        factory()
    assert info.value.field.endswith(field)
    assert isinstance(info.value, ValueError)


def test_duplicate_ids_are_rejected():
    with pytest.raises(ProblemError, match="duplicate id"):
        problem([mentee("a"), mentee("a")], [mentor()])


def test_problem_items_must_have_the_right_type():
    with pytest.raises(ProblemError, match=r"mentors\[0\]"):
        MatchingProblem(run_date=RUN, mentees=(), mentors=(mentee(),), programmes=())  # type: ignore[arg-type]


def test_policy_from_dict_applies_overrides_within_bounds():
    policy = Policy.from_dict(
        {"objective": "quality_first", "weights": {"qpv": 250}, "max_candidates_per_mentee": 10}
    )
    assert policy.objective == "quality_first"
    assert policy.weights.qpv == 250
    assert policy.weights.distance == Weights().distance
    assert Policy.from_dict(policy.to_dict()) == policy
    assert Policy.from_dict(None) == Policy()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"objective": "fastest"}, "policy.objective"),
        ({"weights": {"qpv": 1001}}, "policy.weights.qpv"),
        ({"weights": {"qpv": -1}}, "policy.weights.qpv"),
        ({"weights": {"beauty": 3}}, "policy.weights.beauty"),
        ({"weights": {"qpv": 2.5}}, "policy.weights.qpv"),
        ({"weights": 3}, "policy.weights"),
        ({"speed": 3}, "policy.speed"),
        ({"max_candidates_per_mentee": 0}, "policy.max_candidates_per_mentee"),
        ({"mip_time_limit_s": 0}, "policy.mip_time_limit_s"),
        ({"distance_half_km": 0}, "policy.distance_half_km"),
        ({"stability": 1001}, "policy.stability"),
        ({"stability": -1}, "policy.stability"),
        ({"pricing": 1}, "policy.pricing"),
    ],
)
def test_policy_rejects_out_of_bounds_values(overrides, field):
    with pytest.raises(PolicyError) as info:
        Policy.from_dict(overrides)
    assert info.value.field == field
    assert isinstance(info.value, ProblemError)


def test_mentee_accepts_string_rural_zone_and_keeps_plain_str():
    e = Mentee(
        id="x",
        birth_year=2008,
        lat=45.0,
        lon=5.0,
        commune_insee="38185",
        department="38",
        needs=("digital",),
        waiting_since=date(2025, 1, 1),
        max_travel_km=10,
        rural_zone="FRR+",
    )
    assert e.rural_zone == "FRR+"
    assert type(e.rural_zone) is str
