"""A young person's record as its association reads it, with what identity adds."""

from datetime import date

from sqlalchemy.orm import Session

from app.identity.service import elsewhere
from app.mentees.models import Mentee
from app.mentees.schemas import MenteeRead
from app.vocabulary import Need


def annotate(session: Session, reads: list[MenteeRead]) -> list[MenteeRead]:
    """``followed_elsewhere`` and ``needs_supported_elsewhere`` filled in, in one go."""
    found = elsewhere(session, [(r.id, r.organisation_id) for r in reads], date.today())
    for read in reads:
        followed, needs = found[read.id]
        read.followed_elsewhere = followed
        read.needs_supported_elsewhere = [Need(need) for need in needs]
    return reads


def mentee_read(session: Session, mentee: Mentee) -> MenteeRead:
    return annotate(session, [MenteeRead.model_validate(mentee)])[0]
