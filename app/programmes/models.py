import uuid

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, JsonList, TimestampMixin


class Programme(IdMixin, TimestampMixin, Base):
    """A mentoring programme run by an association on some territories."""

    __tablename__ = "programmes"
    __table_args__ = (
        CheckConstraint("min_age <= max_age", name="age_range"),
        CheckConstraint("capacity >= 0", name="capacity_positive"),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    needs: Mapped[list[str]] = mapped_column(JsonList)
    departments: Mapped[list[str]] = mapped_column(JsonList)
    communes: Mapped[list[str]] = mapped_column(JsonList)
    min_age: Mapped[int] = mapped_column(Integer)
    max_age: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    remote_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
