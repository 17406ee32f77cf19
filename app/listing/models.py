"""Indexes in the order each list endpoint returns its rows, so that a page is an index
range (``ORDER BY … LIMIT … OFFSET``) rather than a sort of the whole table per request.

Declared here, beside no table of their own, because they serve the reads of every
domain (``app.pagination``), not the domain's own rules.
"""

from sqlalchemy import Index

from app.matches.models import Match
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.supports.models import Support

LIST_ORDER_INDEXES = (
    Index("ix_mentees_created_at_id", Mentee.created_at, Mentee.id),
    Index("ix_mentors_created_at_id", Mentor.created_at, Mentor.id),
    Index("ix_matches_proposed_at_id", Match.proposed_at, Match.id),
    Index("ix_supports_start_date_id", Support.start_date, Support.id),
)
