"""Indexes the indicators' freshness check reads (:mod:`app.indicators.memo`): with them,
the row count and latest change of each table come from a small index, not the table."""

from sqlalchemy import Index

from app.matches.models import Match
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.supports.models import Support

FRESHNESS_INDEXES = tuple(
    Index(f"ix_{model.__tablename__}_updated_at", model.__table__.c.updated_at)
    for model in (Mentee, Mentor, Match, Support)
)
