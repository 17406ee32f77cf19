"""The run's problem over persons: what identity adds to a snapshot, read in the
snapshot's own session (so the same consistent state) — see ``app.identity.people``."""

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import matching
from app.db import in_values
from app.identity.people import Coverage, People, collapse
from app.identity.service import covered_needs, identity_supports, linked
from app.identity.vocabulary import Subject
from app.matches import service as matches
from app.matches.models import Match


def people(session: Session, problem: matching.MatchingProblem, now: datetime) -> People:
    """``problem`` with linked records collapsed into persons; supports declared by
    identity and needs covered on linked records outside the run count for the person."""
    mentee_ids = [uuid.UUID(m.id) for m in problem.mentees]
    mentor_ids = [uuid.UUID(m.id) for m in problem.mentors]
    in_run = set(mentee_ids)
    mentee_links = linked(session, Subject.MENTEE, mentee_ids)
    mentor_links = linked(session, Subject.MENTOR, mentor_ids)

    coverage = [
        Coverage(mentee_id=str(record_id), need=support.need)
        for record_id, supports in identity_supports(session, mentee_ids, problem.run_date).items()
        for support in supports
    ]
    outside = {o for links in mentee_links.values() for o in links if o not in in_run}
    covered = covered_needs(session, outside, problem.run_date)
    coverage.extend(
        Coverage(mentee_id=str(record_id), need=need)
        for record_id, links in mentee_links.items()
        for other in links
        if other in outside
        for need in covered.get(other, ())
    )

    # Running matches of linked volunteer records outside the run hold the person's
    # capacity: counted on a record of theirs that is in the run.
    in_pool = set(mentor_ids)
    holder = {
        other: record_id
        for record_id, links in mentor_links.items()
        for other in links
        if other not in in_pool
    }
    outside_running = []
    if holder:
        for match in session.scalars(
            select(Match).where(matches.holding_capacity(now), in_values(Match.mentor_id, holder))
        ):
            # A match holding capacity has both people: erasing one ends it.
            assert match.mentor_id is not None
            outside_running.append(
                matching.RunningMatch(
                    mentee_id=str(match.mentee_id),
                    mentor_id=str(holder[match.mentor_id]),
                    programme_id=str(match.programme_id),
                    need=match.need,
                )
            )
    return collapse(
        problem,
        mentee_links=_groups(mentee_links),
        mentor_links=_groups(mentor_links),
        coverage=coverage,
        outside_running=outside_running,
    )


def _groups(links: dict[uuid.UUID, set[uuid.UUID]]) -> list[list[str]]:
    return [[str(record_id), *(str(o) for o in others)] for record_id, others in links.items()]
