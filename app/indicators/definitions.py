"""The indicators, defined once. docs/indicators.md explains each; the API and the CSV
export name the definition version that produced a figure."""

from dataclasses import dataclass
from enum import StrEnum

DEFINITION_VERSION = "2026.12-2"
"""Bumped whenever a definition below changes meaning."""

RETENTION_DAYS = {"retention_6_months": 182, "retention_12_months": 365}
EARLY_CLOSURE_DAYS = {"closed_before_3_months": 91, "closed_before_6_months": 182}
DAYS_PER_MONTH = 30.4375


class Unit(StrEnum):
    YOUNG_PEOPLE = "young_people"
    MATCHES = "matches"
    DAYS = "days"
    SHARE = "share"
    MEETINGS_PER_MONTH = "meetings_per_active_month"


@dataclass(frozen=True)
class Indicator:
    key: str
    unit: Unit
    title: str
    breakdown: str | None = None
    """What the ``breakdown`` column holds for this indicator (none: a single figure)."""


INDICATORS: tuple[Indicator, ...] = (
    Indicator("young_people_referred", Unit.YOUNG_PEOPLE, "young people referred"),
    Indicator("matches_proposed", Unit.MATCHES, "matches proposed"),
    Indicator("young_people_matched", Unit.YOUNG_PEOPLE, "young people matched"),
    Indicator("matches_started", Unit.MATCHES, "matches started"),
    Indicator("young_people_mentored", Unit.YOUNG_PEOPLE, "young people mentored"),
    Indicator("median_days_to_proposal", Unit.DAYS, "median days waiting for a proposal"),
    Indicator(
        "median_days_to_first_meeting", Unit.DAYS, "median days waiting for the first meeting"
    ),
    Indicator("matches_followed", Unit.MATCHES, "matches running during the period"),
    Indicator("meetings_per_active_month", Unit.MEETINGS_PER_MONTH, "meetings per active month"),
    Indicator("closed_before_3_months", Unit.SHARE, "share ended early before 3 months"),
    Indicator("closed_before_6_months", Unit.SHARE, "share ended early before 6 months"),
    Indicator("retention_6_months", Unit.SHARE, "retention at 6 months"),
    Indicator("retention_12_months", Unit.SHARE, "retention at 12 months"),
    Indicator("matches_closed", Unit.MATCHES, "matches closed", "close_reason"),
    Indicator("reach_mentored", Unit.YOUNG_PEOPLE, "young people mentored, by group", "group"),
    Indicator("reach_mentored_share", Unit.SHARE, "share of the young people mentored", "group"),
    Indicator("reach_waiting", Unit.YOUNG_PEOPLE, "young people waiting, by group", "group"),
    Indicator("reach_waiting_share", Unit.SHARE, "share of the young people waiting", "group"),
    Indicator(
        "duplicate_referrals",
        Unit.YOUNG_PEOPLE,
        "young people referred by more than one organisation",
    ),
    Indicator("duplicates_avoided", Unit.YOUNG_PEOPLE, "second supports for one need not proposed"),
)
BY_KEY = {indicator.key: indicator for indicator in INDICATORS}
