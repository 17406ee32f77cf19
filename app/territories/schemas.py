import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from app.vocabulary import Need

WITHHELD = (
    "``null`` marks a count from 1 to 4, or a count that would reveal one by subtraction, "
    "withheld except for admins"
)


class NeedFigures(BaseModel):
    """Counts for one need; ``None`` means withheld so that a young person cannot be
    singled out in a small commune."""

    waiting: int | None = Field(description="young people with this need and no support for it")
    supported: int | None = Field(
        description="young people already supported for this need (a support or an active match)"
    )
    mentors: int | None = Field(description="active mentors able to help with it")


class CommuneFigures(BaseModel):
    insee: str
    name: str
    young_people: int | None
    in_qpv: int | None
    in_rural_area: int | None = Field(
        description="living in a rural revitalisation zone (FRR, FRR+)"
    )
    mentors: int | None
    needs: dict[Need, NeedFigures]


class Unanswered(BaseModel):
    """Young people the latest matching run over this territory left without a proposal,
    per reason and per need they still wait for."""

    run_id: uuid.UUID
    run_finished_at: datetime | None
    reasons: dict[str, int | None]
    needs_by_reason: dict[str, dict[Need, int | None]]


class Impact(BaseModel):
    """What matching did for the young people of the territory (all programmes, all
    time): the common measure the actors of a territory share."""

    proposed: int | None = Field(description="proposals waiting for the association")
    running: int | None = Field(description="accepted or active matches")
    active: int | None = Field(description="matches whose first meeting was held")
    completed: int | None = Field(description="matches closed as completed")
    ended_early: int | None = Field(description="matches closed for another reason")
    young_people_mentored: int | None = Field(
        description="young people with a match that started (active or closed after starting)"
    )
    median_days_to_first_meeting: float | None = Field(
        default=None,
        description="from the day a young person started waiting to the first meeting; "
        "withheld below five matches (department diagnostic only)",
    )


class CrossOrganisation(BaseModel):
    """Figures that need to tell one person apart across organisations (filled once
    the service links records of the same person)."""

    distinct_young_people: int | None = None
    duplicate_referrals: int | None = None
    duplicates_avoided: int | None = None


class TerritoryDiagnostic(BaseModel):
    department: str
    as_of: date
    young_people: int | None = Field(description=WITHHELD)
    in_qpv: int | None
    in_rural_area: int | None
    mentors: int | None
    programme_capacity: int = Field(description="maximum running matches of programmes here")
    needs: dict[Need, NeedFigures]
    communes: list[CommuneFigures]
    impact: Impact
    unanswered: Unanswered | None = Field(
        description="from the latest succeeded matching run; null before any run"
    )
    cross_organisation: CrossOrganisation | None = None


class DepartmentHeadline(BaseModel):
    department: str
    region: str
    young_people: int | None = Field(description=WITHHELD)
    in_qpv: int | None
    in_rural_area: int | None
    mentors: int | None
    programme_capacity: int
    needs: dict[Need, NeedFigures]
    impact: Impact
    cross_organisation: CrossOrganisation | None = None


class TerritoryOverview(BaseModel):
    """Every department's headline figures, and the nation's."""

    as_of: date
    national: DepartmentHeadline = Field(description='the whole country (department: "")')
    departments: list[DepartmentHeadline]
