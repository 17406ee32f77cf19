"""A year of follow-up history for the demo territory: matches started over the past
twelve months, their meetings and check-ins, some closed (as planned or early), so that
the indicators and the diagnostic have something to show on first start.

Written as the service would have written it: each match with its status history, within
programme and mentor capacity, only between people a programme brings together.
"""

import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.followup.models import CheckIn, Concern, Meeting, MeetingMode
from app.geo import haversine_km
from app.matches.models import CloseReason, Match, MatchEvent, MatchStatus
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.programmes.models import Programme

EARLY_REASONS = (
    CloseReason.MENTEE_WITHDREW,
    CloseReason.MENTOR_WITHDREW,
    CloseReason.MOVED_AWAY,
    CloseReason.OTHER,
)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _eligible(mentee: Mentee, mentor: Mentor, programme: Programme, day: date) -> str | None:
    """The need this pair could work on in ``programme``, if any."""
    age = day.year - mentee.birth_year
    if not programme.min_age <= age <= programme.max_age:
        return None
    if age < 18 and (
        mentor.background_check_valid_until is None or mentor.background_check_valid_until < day
    ):
        return None
    for need in mentee.needs:
        if need in programme.needs and need in mentor.skills:
            return need
    return None


def load_demo_history(session: Session, rng: random.Random, today: date) -> int:
    """Add the history; returns the number of matches written."""
    programmes = list(session.scalars(select(Programme).order_by(Programme.name)))
    mentors = list(session.scalars(select(Mentor).order_by(Mentor.external_id)))
    young = list(session.scalars(select(Mentee).order_by(Mentee.external_id)))
    rng.shuffle(young)
    running: Counter[object] = Counter()  # per mentor and per programme
    written = 0
    for mentee in young[: len(young) // 2]:
        started = today - timedelta(days=rng.randint(20, 360))
        pair = None
        for programme in programmes:
            enrolled = mentee.programme_ids
            if running[programme.id] >= programme.capacity or (
                enrolled and programme.id not in enrolled
            ):
                continue
            candidates = [
                m for m in mentors if programme.id in m.programme_ids and running[m.id] < m.capacity
            ]
            rng.shuffle(candidates)
            for mentor in candidates:
                need = _eligible(mentee, mentor, programme, started)
                if (
                    need is not None
                    and haversine_km(mentee.lat, mentee.lon, mentor.lat, mentor.lon)
                    <= max(mentee.max_travel_km, mentor.max_travel_km) + 10
                ):
                    pair = (programme, mentor, need)
                    break
            if pair:
                break
        if pair is None:
            continue
        programme, mentor, need = pair
        lasted = (today - started).days
        ending = rng.random()
        ended: date | None = None
        reason: CloseReason | None = None
        if lasted > 120 and ending < 0.35:
            ended, reason = (
                started + timedelta(days=rng.randint(90, lasted - 1)),
                (CloseReason.COMPLETED),
            )
        elif ending > 0.8:
            ended = started + timedelta(days=rng.randint(7, max(8, min(lasted - 1, 150))))
            reason = rng.choice(EARLY_REASONS)
        if ended is None:
            running[programme.id] += 1
            running[mentor.id] += 1
        _write(session, rng, mentee, mentor, programme, need, started, ended, reason, today)
        written += 1
    session.flush()
    return written


def _write(
    session: Session,
    rng: random.Random,
    mentee: Mentee,
    mentor: Mentor,
    programme: Programme,
    need: str,
    started: date,
    ended: date | None,
    reason: CloseReason | None,
    today: date,
) -> None:
    proposed = started - timedelta(days=rng.randint(5, 20))
    accepted = proposed + timedelta(days=rng.randint(1, 4))
    match = Match(
        organisation_id=programme.organisation_id,
        mentee_id=mentee.id,
        mentor_id=mentor.id,
        programme_id=programme.id,
        need=need,
        status=MatchStatus.CLOSED if ended else MatchStatus.ACTIVE,
        distance_km=round(haversine_km(mentee.lat, mentee.lon, mentor.lat, mentor.lon), 1),
        proposed_at=_at(proposed),
        accepted_at=_at(accepted),
        started_at=_at(started),
        ended_at=_at(ended) if ended else None,
        close_reason=reason,
    )
    session.add(match)
    session.flush()
    steps: list[tuple[MatchStatus | None, MatchStatus, date, str | None]] = [
        (None, MatchStatus.PROPOSED, proposed, None),
        (MatchStatus.PROPOSED, MatchStatus.ACCEPTED, accepted, None),
        (MatchStatus.ACCEPTED, MatchStatus.ACTIVE, started, None),
    ]
    if ended and reason:
        steps.append((MatchStatus.ACTIVE, MatchStatus.CLOSED, ended, reason.value))
    for from_status, to_status, day, why in steps:
        session.add(
            MatchEvent(
                match_id=match.id,
                from_status=from_status,
                to_status=to_status,
                at=_at(day),
                reason=why,
            )
        )
    last = ended or today
    day = started
    while day <= last:
        session.add(
            Meeting(
                match_id=match.id,
                organisation_id=match.organisation_id,
                held_on=day,
                minutes=rng.choice([45, 60, 60, 90, 120]),
                mode=MeetingMode.REMOTE if rng.random() < 0.25 else MeetingMode.IN_PERSON,
            )
        )
        day += timedelta(days=rng.randint(7, 21))
    day = started + timedelta(days=30)
    while day <= last:
        worried = rng.random() < 0.15
        session.add(
            CheckIn(
                match_id=match.id,
                organisation_id=match.organisation_id,
                held_on=day,
                mentor_rating=rng.randint(2, 5) if not worried else rng.randint(1, 3),
                mentee_rating=rng.randint(3, 5) if not worried else rng.randint(1, 3),
                concern=rng.choice(list(Concern)[:5]) if worried else None,
            )
        )
        day += timedelta(days=rng.randint(25, 40))
