"""Cooperative interruption: the caller of :func:`app.matching.solve` passes ``stop``,
a function polled between the steps of a solve (phases, components, Lagrangian
iterations — each at most a few seconds nationally), so that a cancelled run stops
soon instead of solving to the end for nothing."""

from __future__ import annotations

from collections.abc import Callable

StopCheck = Callable[[], bool]
"""Returns True when the solve should stop."""


class Interrupted(Exception):
    """The solve stopped because ``stop()`` returned True; there is no result."""


def never() -> bool:
    return False


def checkpoint(stop: StopCheck) -> None:
    if stop():
        raise Interrupted
