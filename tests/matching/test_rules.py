"""Every hard rule, scalar function and end to end, passing and failing."""

from datetime import date

import pytest

from app.matching import ExcludedPair, RunningMatch, Support, rules, solve, validate
from tests.matching.factories import RUN, mentee, mentor, problem, programme


def only_proposal(pb):
    result = solve(pb)
    assert validate(pb, result) == []
    return result.proposals[0] if result.proposals else None


# Rule 1 — programme ------------------------------------------------------------------


def test_territory_by_department_or_commune():
    e = mentee(department="93", commune_insee="93066")
    assert rules.programme_covers_territory(programme(territories={"93"}), e)
    assert rules.programme_covers_territory(programme(territories={"93066"}), e)
    assert not rules.programme_covers_territory(programme(territories={"75", "93001"}), e)


def test_age_is_run_year_minus_birth_year():
    p = programme(min_age=16, max_age=18)
    assert rules.programme_covers_age(p, mentee(birth_year=2009), RUN)  # 16 in 2025
    assert not rules.programme_covers_age(p, mentee(birth_year=2010), RUN)  # 15
    assert not rules.programme_covers_age(p, mentee(birth_year=2006), RUN)  # 19


def test_programme_need_volunteering_and_enrolment():
    p = programme(needs={"digital"})
    assert rules.programme_covers_need(p, "digital")
    assert not rules.programme_covers_need(p, "employment")
    assert rules.mentor_volunteers_with(mentor(programme_ids={"p1"}), p)
    assert not rules.mentor_volunteers_with(mentor(programme_ids={"p2"}), p)
    assert rules.mentee_accepts_programme(mentee(), p)
    assert rules.mentee_accepts_programme(mentee(enrolled_programme_ids={"p1"}), p)
    assert not rules.mentee_accepts_programme(mentee(enrolled_programme_ids={"p2"}), p)


@pytest.mark.parametrize(
    ("prog_kw", "mentor_kw", "mentee_kw"),
    [
        ({"territories": {"93"}}, {}, {}),
        ({"min_age": 21}, {}, {}),
        ({"needs": {"digital"}}, {}, {}),
        ({}, {"programme_ids": {"other"}}, {}),
        ({}, {}, {"enrolled_programme_ids": {"other"}}),
    ],
)
def test_engine_respects_programme_rule(prog_kw, mentor_kw, mentee_kw):
    assert only_proposal(problem([mentee()], [mentor()], [programme()])) is not None
    pb = problem([mentee(**mentee_kw)], [mentor(**mentor_kw)], [programme(**prog_kw)])
    assert only_proposal(pb) is None


def test_engine_chooses_among_programmes():
    progs = [programme("p1", capacity=0), programme("p2")]
    prop = only_proposal(problem([mentee()], [mentor(programme_ids={"p1", "p2"})], progs))
    assert prop is not None
    assert prop.programme_id == "p2"


# Rule 2 — need -------------------------------------------------------------------------


def test_need_must_be_a_mentee_need_and_a_mentor_skill():
    assert rules.need_shared(mentee(needs=("digital",)), mentor(skills={"digital"}), "digital")
    assert not rules.need_shared(
        mentee(needs=("digital",)), mentor(skills={"orientation"}), "digital"
    )
    assert (
        only_proposal(problem([mentee(needs=("digital",))], [mentor(skills={"orientation"})]))
        is None
    )
    prop = only_proposal(
        problem([mentee(needs=("employment", "digital"))], [mentor(skills={"digital"})])
    )
    assert prop is not None
    assert prop.need == "digital"


# Rule 3 — existing support ---------------------------------------------------------------


def test_active_support_blocks_the_need_and_ended_one_does_not():
    assert rules.need_not_covered("digital", {"orientation"})
    assert not rules.need_not_covered("digital", {"digital"})
    e = mentee(needs=("digital",))
    active = Support("e1", "digital", date(2025, 1, 1))
    ended = Support("e1", "digital", date(2024, 1, 1), date(2025, 8, 31))
    future = Support("e1", "digital", date(2025, 10, 1))
    assert only_proposal(problem([e], [mentor()], supports=(active,))) is None
    assert only_proposal(problem([e], [mentor()], supports=(ended,))) is not None
    assert only_proposal(problem([e], [mentor()], supports=(future,))) is not None


def test_running_match_covers_its_need_but_not_the_others():
    e = mentee(needs=("digital", "orientation"))
    run = RunningMatch("e1", "m0", "p1", "digital")
    prop = only_proposal(problem([e], [mentor(capacity=2)], running_matches=(run,)))
    assert prop is not None
    assert prop.need == "orientation"
    run2 = RunningMatch("e1", "m0", "p1", "orientation")
    assert only_proposal(problem([e], [mentor()], running_matches=(run, run2))) is None


# Rule 4 — locality ---------------------------------------------------------------------


def test_locality_uses_the_smaller_travel_distance_or_remote():
    p_remote = programme(remote_allowed=True)
    e, m = mentee(max_travel_km=30), mentor(max_travel_km=10)
    assert rules.meeting_mode(9.9, e, m, programme()) == rules.IN_PERSON
    assert rules.meeting_mode(10.1, e, m, programme()) is None
    e_r, m_r = mentee(remote_ok=True), mentor(remote_ok=True)
    assert rules.meeting_mode(500, e_r, m_r, p_remote) == rules.REMOTE
    assert rules.meeting_mode(500, e_r, m_r, programme()) is None
    assert rules.meeting_mode(500, e_r, mentor(), p_remote) is None

    near = problem([mentee(max_travel_km=30)], [mentor(km=8, max_travel_km=10)])
    far = problem([mentee(max_travel_km=30)], [mentor(km=12, max_travel_km=10)])
    assert only_proposal(near).mode == "in_person"
    assert only_proposal(far) is None
    remote = problem([mentee(remote_ok=True)], [mentor(km=300, remote_ok=True)], [p_remote])
    prop = only_proposal(remote)
    assert prop.mode == "remote"
    assert prop.score_terms.distance == 0
    assert prop.score_terms.remote > 0


# Rule 5 — safeguarding -----------------------------------------------------------------


def test_possible_minor_needs_a_background_checked_mentor():
    minor = mentee(birth_year=2007)  # 18 in 2025: may still be 17
    adult = mentee(birth_year=2006)
    expired = mentor(background_check_valid_until=date(2025, 8, 31))
    today = mentor(background_check_valid_until=RUN)
    unchecked = mentor(background_check_valid_until=None)
    assert rules.may_be_minor(minor, RUN)
    assert not rules.may_be_minor(adult, RUN)
    assert rules.safeguarding_ok(minor, today, RUN, "p1")
    assert not rules.safeguarding_ok(minor, expired, RUN, "p1")
    assert rules.safeguarding_ok(adult, unchecked, RUN, "p1")
    assert only_proposal(problem([minor], [expired])) is None
    assert only_proposal(problem([minor], [unchecked])) is None
    assert only_proposal(problem([minor], [today])) is not None
    assert only_proposal(problem([adult], [unchecked])) is not None


def test_a_background_check_counts_only_for_the_programmes_that_confirmed_it():
    minor = mentee(birth_year=2010)
    adult = mentee(birth_year=2000)
    elsewhere = mentor(background_checked_programme_ids=frozenset({"p2"}))
    confirmed = mentor(background_checked_programme_ids=frozenset({"p1"}))
    assert not rules.safeguarding_ok(minor, elsewhere, RUN, "p1")
    assert rules.safeguarding_ok(minor, confirmed, RUN, "p1")
    assert only_proposal(problem([minor], [elsewhere])) is None
    assert only_proposal(problem([minor], [confirmed])) is not None
    # Adults do not need a check: the link's confirmation does not matter to them.
    assert only_proposal(problem([adult], [elsewhere])) is not None


# Rule 6 — language and exclusions -------------------------------------------------------


def test_language_is_required_only_when_both_list_languages():
    assert rules.language_ok(mentee(languages={"fr"}), mentor(languages={"fr", "ar"}))
    assert not rules.language_ok(mentee(languages={"ar"}), mentor(languages={"en"}))
    assert rules.language_ok(mentee(languages=set()), mentor(languages={"en"}))
    assert only_proposal(problem([mentee(languages={"ar"})], [mentor(languages={"en"})])) is None
    assert only_proposal(problem([mentee(languages=set())], [mentor(languages={"en"})])) is not None


def test_excluded_pair_is_never_proposed_again():
    assert rules.pair_allowed(mentee(), mentor(), {("e1", "m2")})
    assert not rules.pair_allowed(mentee(), mentor(), {("e1", "m1")})
    pb = problem([mentee()], [mentor()], excluded_pairs=(ExcludedPair("e1", "m1"),))
    assert only_proposal(pb) is None
    pb = problem(
        [mentee()], [mentor("m1"), mentor("m2", km=5)], excluded_pairs=(ExcludedPair("e1", "m1"),)
    )
    assert only_proposal(pb).mentor_id == "m2"


def test_check_proposal_names_the_first_broken_rule():
    e, m, p = mentee(), mentor(), programme()
    assert rules.check_proposal(e, m, p, "orientation", 1.0, RUN, set(), set()) is None
    assert rules.check_proposal(e, m, p, "digital", 1.0, RUN, set(), set()) == "need"
    assert rules.check_proposal(e, m, p, "orientation", 1.0, RUN, {"orientation"}, set()) == (
        "existing_support"
    )
    assert rules.check_proposal(e, m, p, "orientation", 50.0, RUN, set(), set()) == "locality"
