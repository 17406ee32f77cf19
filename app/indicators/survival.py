"""Kaplan–Meier survival of matches: the share still running ``t`` days after they started.

Every match that started enters at day 0. A match closed for any reason but
``completed`` is an *event* on the day it closed; a match still running, or closed as
completed (it ended as planned, it did not break down), is *censored* on its last known
day: it counts as running up to that day and no longer after, instead of being dropped
(which would bias retention downwards) or kept forever (upwards).
"""

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Tally:
    """Matches whose last known day is ``day``: ``events`` broke down that day,
    ``censored`` were still running (or completed) then."""

    day: int
    events: int
    censored: int


def survival_at(tallies: Iterable[Tally], day: int) -> float | None:
    """S(day) = Π over event days t ≤ day of (1 − events(t) / at risk(t)), where the
    matches at risk on day t are those whose last known day is t or later (a match
    censored on day t still counts as at risk on day t). ``None`` without any match."""
    ordered = sorted(tallies, key=lambda tally: tally.day)
    at_risk = sum(tally.events + tally.censored for tally in ordered)
    if at_risk == 0:
        return None
    survival = 1.0
    for tally in ordered:
        if tally.day > day:
            break
        if tally.events:
            survival *= 1.0 - tally.events / at_risk
        at_risk -= tally.events + tally.censored
    return survival


def events_until(tallies: Iterable[Tally], day: int) -> int:
    return sum(tally.events for tally in tallies if tally.day <= day)
