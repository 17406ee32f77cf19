"""Hard feasibility rules, one small function each (scalar reference implementation).

A proposal is (mentee, mentor, programme, need). :func:`check_proposal` applies every
rule and returns the first broken one; the vectorised candidate generator
(:mod:`app.matching.candidates`) implements the same rules on arrays, and the validator
(:mod:`app.matching.validate`) re-checks its output with these functions.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from app.matching.problem import Mentee, Mentor, Programme

MINOR_MAX_AGE = 18
"""Only the birth year is known: someone whose run-year age is 18 may still be 17."""

IN_PERSON = "in_person"
REMOTE = "remote"


def age_in_year(birth_year: int, run_date: date) -> int:
    """Age reached during the run year (the only age computable from a birth year)."""
    return run_date.year - birth_year


# Rule 1 — programme ---------------------------------------------------------------


def programme_covers_territory(programme: Programme, mentee: Mentee) -> bool:
    return (
        mentee.department in programme.territories or mentee.commune_insee in programme.territories
    )


def programme_covers_age(programme: Programme, mentee: Mentee, run_date: date) -> bool:
    return programme.min_age <= age_in_year(mentee.birth_year, run_date) <= programme.max_age


def programme_covers_need(programme: Programme, need: str) -> bool:
    return need in programme.needs


def mentor_volunteers_with(mentor: Mentor, programme: Programme) -> bool:
    return programme.id in mentor.programme_ids


def mentee_accepts_programme(mentee: Mentee, programme: Programme) -> bool:
    """A mentee enrolled in programmes only accepts those; none listed means any."""
    return not mentee.enrolled_programme_ids or programme.id in mentee.enrolled_programme_ids


def programme_eligible(programme: Programme, mentee: Mentee, need: str, run_date: date) -> bool:
    """Rule 1, mentee side: territory, age, need and enrolment."""
    return (
        programme_covers_territory(programme, mentee)
        and programme_covers_age(programme, mentee, run_date)
        and programme_covers_need(programme, need)
        and mentee_accepts_programme(mentee, programme)
    )


# Rule 2 — need ----------------------------------------------------------------------


def need_shared(mentee: Mentee, mentor: Mentor, need: str) -> bool:
    return need in mentee.needs and need in mentor.skills


# Rule 3 — existing support ------------------------------------------------------------


def need_not_covered(need: str, covered_needs: Collection[str]) -> bool:
    """``covered_needs``: needs of the mentee with an active support or running match."""
    return need not in covered_needs


# Rule 4 — locality ---------------------------------------------------------------------


def meeting_mode(
    distance_km: float, mentee: Mentee, mentor: Mentor, programme: Programme
) -> str | None:
    """``"in_person"`` within the smaller travel distance, else ``"remote"`` when both
    accept it and the programme allows it, else None (out of reach)."""
    if distance_km <= min(mentee.max_travel_km, mentor.max_travel_km):
        return IN_PERSON
    if mentee.remote_ok and mentor.remote_ok and programme.remote_allowed:
        return REMOTE
    return None


# Rule 5 — safeguarding -------------------------------------------------------------


def may_be_minor(mentee: Mentee, run_date: date) -> bool:
    return age_in_year(mentee.birth_year, run_date) <= MINOR_MAX_AGE


def background_check_valid(mentor: Mentor, run_date: date, programme_id: str) -> bool:
    """Valid on the run date and counting for that programme (see ``Mentor``)."""
    until = mentor.background_check_valid_until
    counted = mentor.background_checked_programme_ids
    return until is not None and until >= run_date and (counted is None or programme_id in counted)


def safeguarding_ok(mentee: Mentee, mentor: Mentor, run_date: date, programme_id: str) -> bool:
    return not may_be_minor(mentee, run_date) or background_check_valid(
        mentor, run_date, programme_id
    )


# Rule 6 — language and exclusions ------------------------------------------------------


def language_ok(mentee: Mentee, mentor: Mentor) -> bool:
    """Only constrains when both list languages."""
    if not mentee.languages or not mentor.languages:
        return True
    return not mentee.languages.isdisjoint(mentor.languages)


def pair_allowed(mentee: Mentee, mentor: Mentor, excluded: Collection[tuple[str, str]]) -> bool:
    """``excluded``: (mentee id, mentor id) pairs never to be proposed again."""
    return (mentee.id, mentor.id) not in excluded


def check_proposal(
    mentee: Mentee,
    mentor: Mentor,
    programme: Programme,
    need: str,
    distance_km: float,
    run_date: date,
    covered_needs: Collection[str],
    excluded: Collection[tuple[str, str]],
) -> str | None:
    """Name of the first broken rule, or None when the proposal is feasible."""
    if not programme_eligible(programme, mentee, need, run_date):
        return "programme"
    if not mentor_volunteers_with(mentor, programme):
        return "mentor_programme"
    if not need_shared(mentee, mentor, need):
        return "need"
    if not need_not_covered(need, covered_needs):
        return "existing_support"
    if meeting_mode(distance_km, mentee, mentor, programme) is None:
        return "locality"
    if not safeguarding_ok(mentee, mentor, run_date, programme.id):
        return "safeguarding"
    if not language_ok(mentee, mentor):
        return "language"
    if not pair_allowed(mentee, mentor, excluded):
        return "excluded_pair"
    return None
