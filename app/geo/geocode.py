"""Offline geocoding of a commune code or postcode to a :class:`Place`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final

from app.geo.communes import Commune, commune, communes_for_postcode
from app.geo.errors import GeocodingError

__all__ = ["Place", "geocode"]

_INSEE_RE: Final = re.compile(r"(?:\d{2}|2[AB])\d{3}")
_POSTCODE_RE: Final = re.compile(r"\d{5}")
_WHITESPACE_RE: Final = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Place:
    """A geocoded location: the commune it belongs to and a WGS84 point."""

    commune_insee: str
    commune_name: str
    department: str
    region: str
    lat: float
    lon: float


def _normalise_code(field: str, value: object, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str):
        raise GeocodingError(field, f"{what} must be a string, got {type(value).__name__}")
    code = _WHITESPACE_RE.sub("", value).upper()
    if not pattern.fullmatch(code):
        raise GeocodingError(field, f"malformed {what} {value!r}: expected 5 characters")
    return code


def _check_coordinate(field: str, value: object, bound: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GeocodingError(field, f"must be a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number) or not -bound <= number <= bound:
        raise GeocodingError(field, f"{value!r} is out of range [-{bound:g}, {bound:g}]")
    return number


def _weight(c: Commune) -> int:
    return c.population or 0


def _postcode_centroid(communes: tuple[Commune, ...]) -> tuple[float, float]:
    """Population-weighted centroid (plain mean if no population is known)."""
    total = sum(_weight(c) for c in communes)
    if total == 0:
        n = len(communes)
        return sum(c.lat for c in communes) / n, sum(c.lon for c in communes) / n
    lat = sum(c.lat * _weight(c) for c in communes) / total
    lon = sum(c.lon * _weight(c) for c in communes) / total
    return lat, lon


def geocode(
    *,
    insee: str | None = None,
    postcode: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
) -> Place:
    """Geocode an INSEE commune code and/or a postcode, optionally with a precise point.

    * ``insee`` or ``postcode`` is required. Codes are exactly five characters once
      whitespace is removed (Corsica: ``2A``/``2B``, case-insensitive); no leading zero
      is ever added.
    * ``insee`` alone: the commune, at its centroid. Municipal arrondissements
      (``75111``) and whole cities (``75056``, ``69123``, ``13055``, at the city
      centroid) are both accepted.
    * ``postcode`` alone: a postcode may serve several communes. The place is then
      the population-weighted centroid of those communes and its commune,
      department and region are those of the most populous one (lowest INSEE code
      on a tie). An unknown population (Mayotte) weighs 0; if no commune of the
      postcode has a known population, the plain mean of the centroids is used.
      Postcodes of Paris, Lyon and Marseille resolve to the arrondissement.
    * both: the postcode must serve the commune (a whole city is served by its
      arrondissements' postcodes); the place is that of the commune.
    * ``lat``/``lon``: both or neither, within [-90, 90] and [-180, 180]; when given
      they replace the computed point (the commune is still found from the codes).

    Raises :class:`GeocodingError` whose ``field`` is the offending input.
    """
    if insee is None and postcode is None:
        raise GeocodingError("insee", "an INSEE commune code or a postcode is required")
    if (lat is None) != (lon is None):
        missing = "lon" if lon is None else "lat"
        raise GeocodingError(missing, "lat and lon must be given together")
    point = None
    if lat is not None and lon is not None:
        point = (_check_coordinate("lat", lat, 90), _check_coordinate("lon", lon, 180))

    insee_code = None if insee is None else _normalise_code("insee", insee, _INSEE_RE, "code")
    pc = None if postcode is None else _normalise_code("postcode", postcode, _POSTCODE_RE, "code")

    if insee_code is not None:
        found = commune(insee_code)
        if found is None:
            raise GeocodingError("insee", f"unknown INSEE commune code {insee_code!r}")
        if pc is not None and pc not in found.postcodes:
            if not communes_for_postcode(pc):
                raise GeocodingError("postcode", f"unknown postcode {pc!r}")
            raise GeocodingError(
                "postcode", f"postcode {pc} does not serve {found.name} ({found.insee})"
            )
        centre = (found.lat, found.lon)
    else:
        assert pc is not None
        served = communes_for_postcode(pc)
        if not served:
            raise GeocodingError("postcode", f"unknown postcode {pc!r}")
        found = min(served, key=lambda c: (-_weight(c), c.insee))
        centre = _postcode_centroid(served)

    plat, plon = point if point is not None else centre
    return Place(
        commune_insee=found.insee,
        commune_name=found.name,
        department=found.department,
        region=found.region,
        lat=plat,
        lon=plon,
    )
