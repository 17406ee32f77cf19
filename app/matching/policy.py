"""Run policy: objective mode, score weights, candidate cap and solver limits.

A policy is built from defaults plus a plain dict of overrides (what the HTTP layer
receives), with every value checked against documented bounds::

    Policy.from_dict({"objective": "quality_first", "weights": {"qpv": 150}})
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

from app.matching.errors import ProblemError

Objective = Literal["lexicographic", "quality_first"]
OBJECTIVES: tuple[str, ...] = ("lexicographic", "quality_first")

# Bounds of every weight (integers keep the min-cost-flow exact and overflow-free).
WEIGHT_MIN = 0
WEIGHT_MAX = 1000


class PolicyError(ProblemError):
    """Invalid policy value; ``field`` is a dotted path such as ``policy.weights.qpv``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"policy.{field}", message)


def _int_in(field: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(field, "must be an integer")
    if not low <= value <= high:
        raise PolicyError(field, f"must be between {low} and {high}")
    return value


def _float_in(field: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError(field, "must be a number")
    if not low <= value <= high:
        raise PolicyError(field, f"must be between {low:g} and {high:g}")
    return float(value)


@dataclasses.dataclass(frozen=True, slots=True)
class Weights:
    """Integer weights of the pair score terms (see :mod:`app.matching.scoring`).

    Every weight is bounded to [0, 1000]."""

    need_rank: int = 40
    """Points per rank: the mentee's first need earns 8×, the second 7×, ..."""
    distance: int = 200
    """In-person points at 0 km, halved at ``Policy.distance_half_km``."""
    remote: int = 60
    """Flat points of a remote pair (distance beyond reach, both accept remote)."""
    shared_language: int = 20
    """Points per shared language, at most two counted."""
    first_support: int = 150
    """Mentee has no active support nor running match of any kind."""
    qpv: int = 100
    """Mentee lives in a priority neighbourhood (quartier prioritaire de la ville)."""
    frr: int = 60
    """Mentee lives in a France Ruralités Revitalisation commune."""
    frr_plus: int = 100
    """Mentee lives in an FRR+ commune (replaces ``frr``)."""
    waiting_per_month: int = 10
    """Points per full 30 days waited, up to ``Policy.waiting_cap_days``."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _int_in(f"weights.{f.name}", getattr(self, f.name), WEIGHT_MIN, WEIGHT_MAX)


@dataclasses.dataclass(frozen=True, slots=True)
class Policy:
    """How one run is scored and solved.

    ``objective``: ``"lexicographic"`` (default) first maximises the number of young
    people matched, then the total pair score; ``"quality_first"`` maximises the total
    score alone (it may leave someone unmatched to give a better pair to another).

    ``max_candidates_per_mentee``: ``None`` (default) gives the solve every feasible
    option, enumerated by radius; ``k`` starts from a shortlist of each mentee's k best
    options among the nearest, which ``pricing`` completes (measured: slower at every
    benchmark size since the LPs are solved by column generation, which prices every
    option of a component anyway; see ``docs/matching.md``).

    ``pricing``: complete the shortlist by pricing out the options it left out (see
    :mod:`app.matching.pricing`): the optimum is then the optimum over every feasible
    option. ``False`` keeps the shortlist alone, for speed; the options it may have
    cost are counted and the status is ``feasible`` unless none could matter.

    ``stability``: points an existing pair earns by being proposed again (twice for an
    accepted or active match): among solutions of equal coverage the engine keeps the
    pairs that exist, and changes one for score only when the total score gained
    exceeds this threshold. 0 turns it off.

    ``mip_time_limit_s``: a safety stop in wall-clock seconds, far above the expected
    time (the national benchmark solves in about 75 s on an idle 2-core machine):
    every search is bounded by work limits (iterations, nodes), so the answer does not
    depend on the machine's load unless this stop is hit (then reported in
    ``stats.time_limit_hit``, with the best solution found and its proven gap).
    """

    objective: str = "lexicographic"
    weights: Weights = dataclasses.field(default_factory=Weights)
    distance_half_km: float = 10.0
    waiting_cap_days: int = 365
    max_candidates_per_mentee: int | None = None
    mip_time_limit_s: float = 600.0
    pricing: bool = True
    stability: int = 100

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise PolicyError("objective", f"must be one of {OBJECTIVES}")
        if not isinstance(self.weights, Weights):
            raise PolicyError("weights", "must be a Weights")
        object.__setattr__(
            self,
            "distance_half_km",
            _float_in("distance_half_km", self.distance_half_km, 0.5, 500.0),
        )
        _int_in("waiting_cap_days", self.waiting_cap_days, 0, 3650)
        if self.max_candidates_per_mentee is not None:
            _int_in("max_candidates_per_mentee", self.max_candidates_per_mentee, 1, 10_000)
        if not isinstance(self.pricing, bool):
            raise PolicyError("pricing", "must be a boolean")
        _int_in("stability", self.stability, WEIGHT_MIN, WEIGHT_MAX)
        object.__setattr__(
            self,
            "mip_time_limit_s",
            _float_in("mip_time_limit_s", self.mip_time_limit_s, 0.1, 3600.0),
        )

    @classmethod
    def from_dict(cls, overrides: Mapping[str, Any] | None = None) -> Policy:
        """Defaults updated with ``overrides`` (unknown keys are errors).

        ``overrides["weights"]`` is itself a partial mapping of weight names."""
        data = dict(overrides or {})
        known = {f.name for f in dataclasses.fields(cls)}
        for key in data:
            if key not in known:
                raise PolicyError(str(key), f"unknown setting; expected one of {sorted(known)}")
        raw_weights = data.pop("weights", None)
        weights = Weights()
        if raw_weights is not None:
            if isinstance(raw_weights, Weights):
                weights = raw_weights
            elif isinstance(raw_weights, Mapping):
                names = {f.name for f in dataclasses.fields(Weights)}
                for key in raw_weights:
                    if key not in names:
                        raise PolicyError(
                            f"weights.{key}", f"unknown weight; expected one of {sorted(names)}"
                        )
                weights = dataclasses.replace(weights, **raw_weights)
            else:
                raise PolicyError("weights", "must be a mapping of weight names to integers")
        return cls(weights=weights, **data)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form, the inverse of :meth:`from_dict`."""
        return dataclasses.asdict(self)
