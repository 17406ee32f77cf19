from datetime import date

from pydantic import BaseModel, Field

from app.vocabulary import Need


class NeedFigures(BaseModel):
    """Counts for one need; ``None`` means a count between 1 and 4, withheld so that a
    young person cannot be singled out in a small commune."""

    waiting: int | None = Field(description="young people with this need and no support for it")
    supported: int | None = Field(description="young people already supported for this need")
    mentors: int | None = Field(description="active mentors able to help with it")


class CommuneFigures(BaseModel):
    insee: str
    name: str
    young_people: int | None
    in_qpv: int | None
    mentors: int | None
    needs: dict[Need, NeedFigures]


class TerritoryDiagnostic(BaseModel):
    department: str
    as_of: date
    young_people: int
    mentors: int
    programme_capacity: int = Field(description="maximum running matches of programmes here")
    needs: dict[Need, NeedFigures]
    communes: list[CommuneFigures]
