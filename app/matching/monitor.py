"""Watching a solve from outside, between its steps (after the candidates, per relaxation
batch, per component, per Lagrangian iteration — a few seconds apart at most
nationally): ``progress`` receives the fraction done, ``stop`` is polled so that a
cancelled run stops soon instead of solving to the end for nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

StopCheck = Callable[[], bool]
"""Returns True when the solve should stop."""
ProgressReport = Callable[[float], None]
"""Receives the fraction of the solve done, from 0 to 1, never decreasing."""


class Interrupted(Exception):
    """The solve stopped because ``stop()`` returned True; there is no result."""


def never() -> bool:
    return False


def ignore(_: float) -> None:
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class Monitor:
    stop: StopCheck = never
    progress: ProgressReport = ignore

    def checkpoint(self, done: float | None = None) -> None:
        """Report ``done`` (of this monitor's part), then stop here if asked."""
        if done is not None:
            self.progress(min(1.0, max(0.0, done)))
        if self.stop():
            raise Interrupted

    def part(self, start: float, end: float) -> Monitor:
        """The monitor of a step covering ``start``..``end`` of this one."""
        outer = self.progress
        return Monitor(self.stop, lambda done: outer(start + (end - start) * done))


UNWATCHED = Monitor()
