"""Reference data: French communes (COG 2025), loaded lazily from the vendored CSV.

The data file is read once, on first use, under a lock; every later call reads the
cached, immutable index. See ``data/README.md`` for the provenance and the columns.

Paris, Lyon and Marseille appear twice: as communes (75056, 69123, 13055) and through
their municipal arrondissements (75101…75120, 69381…69389, 13201…13216). The city's
``postcodes`` are the union of its arrondissements' postcodes. Listings
(:func:`all_communes`, :func:`communes_in_department`) return either the cities or
their arrondissements, never both, so that populations are never counted twice.
"""

from __future__ import annotations

import csv
import gzip
import io
import threading
from dataclasses import dataclass, replace
from importlib import resources
from itertools import chain
from typing import Final

from app.geo.errors import GeocodingError

__all__ = [
    "DATA_FILE",
    "Commune",
    "all_communes",
    "commune",
    "communes_for_postcode",
    "communes_in_department",
    "department_of",
    "departments",
    "is_known_department",
]

DATA_FILE: Final = "communes-2025.csv.gz"
_NULL: Final = "\\N"  # missing value marker in the CSV

#: INSEE code of the city that each department's municipal arrondissements belong to.
_CITY_OF_ARRONDISSEMENTS: Final = {"75": "75056", "69": "69123", "13": "13055"}


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune, or a municipal arrondissement of Paris, Lyon or Marseille."""

    insee: str
    name: str
    department: str
    region: str
    #: Municipal population; ``None`` where the source has none (Mayotte, Hauts-Talican).
    population: int | None
    lat: float
    lon: float
    postcodes: tuple[str, ...]
    #: For a municipal arrondissement, the INSEE code of its city; otherwise ``None``.
    arrondissement_of: str | None = None

    @property
    def is_arrondissement(self) -> bool:
        return self.arrondissement_of is not None


@dataclass(frozen=True, slots=True)
class _Index:
    by_insee: dict[str, Commune]
    by_postcode: dict[str, tuple[Commune, ...]]
    # Communes proper (cities whole), and with the three cities split in arrondissements;
    # both in data-file order, grouped by department.
    communes: tuple[Commune, ...]
    communes_split: tuple[Commune, ...]
    by_department: dict[str, tuple[Commune, ...]]
    by_department_split: dict[str, tuple[Commune, ...]]


_lock = threading.Lock()
_index: _Index | None = None


def _read_rows() -> list[list[str]]:
    raw = resources.files("app.geo").joinpath("data", DATA_FILE).read_bytes()
    text = gzip.decompress(raw).decode("utf-8")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    expected = ["insee", "type", "nom", "dep", "region", "population", "lat", "lon", "postcodes"]
    if header != expected:  # pragma: no cover - guards against a mis-vendored file
        raise RuntimeError(f"unexpected columns in {DATA_FILE}: {header}")
    return list(reader)


def _build_index() -> _Index:
    by_insee: dict[str, Commune] = {}
    by_postcode: dict[str, list[Commune]] = {}
    by_department: dict[str, list[Commune]] = {}  # communes proper, cities whole
    arrondissements: dict[str, list[Commune]] = {}  # city INSEE code -> arrondissements
    for insee, kind, name, dep, region, population, lat, lon, postcodes in _read_rows():
        city = _CITY_OF_ARRONDISSEMENTS[dep] if kind == "ARM" else None
        c = Commune(
            insee,
            name,
            dep,
            region,
            None if population == _NULL else int(population),
            float(lat),
            float(lon),
            tuple(postcodes.split()),
            city,
        )
        by_insee[insee] = c
        for pc in c.postcodes:
            if pc in by_postcode:
                by_postcode[pc].append(c)
            else:
                by_postcode[pc] = [c]
        if city is None:
            if dep in by_department:
                by_department[dep].append(c)
            else:
                by_department[dep] = [c]
        else:
            arrondissements.setdefault(city, []).append(c)

    # The cities carry no postcode in the source: give them their arrondissements'.
    # (The postcode index is left untouched: a postcode maps to the arrondissement.)
    by_department_split = dict(by_department)
    for city_insee, arms in arrondissements.items():
        pcs = tuple(sorted({pc for a in arms for pc in a.postcodes}))
        whole = by_insee[city_insee] = replace(by_insee[city_insee], postcodes=pcs)
        dep_list = by_department[whole.department]
        position = next(i for i, c in enumerate(dep_list) if c.insee == city_insee)
        dep_list[position] = whole
        by_department_split[whole.department] = [
            *dep_list[:position],
            *arms,
            *dep_list[position + 1 :],
        ]

    departments = {dep: tuple(cs) for dep, cs in by_department.items()}
    departments_split = {dep: tuple(cs) for dep, cs in by_department_split.items()}
    return _Index(
        by_insee=by_insee,
        by_postcode={pc: tuple(cs) for pc, cs in by_postcode.items()},
        communes=tuple(chain.from_iterable(departments.values())),
        communes_split=tuple(chain.from_iterable(departments_split.values())),
        by_department=departments,
        by_department_split=departments_split,
    )


def _get_index() -> _Index:
    global _index
    index = _index
    if index is None:
        with _lock:
            index = _index
            if index is None:
                index = _index = _build_index()
    return index


def commune(insee: str) -> Commune | None:
    """The commune (or municipal arrondissement) with this INSEE code, or ``None``.

    The code is looked up as given (no normalisation).
    """
    return _get_index().by_insee.get(insee)


def communes_for_postcode(postcode: str) -> tuple[Commune, ...]:
    """Communes served by a postcode (empty if unknown), in INSEE-code order.

    Postcodes of Paris, Lyon and Marseille map to their arrondissements.
    """
    return _get_index().by_postcode.get(postcode, ())


def department_of(insee: str) -> str:
    """Department code (``"01"``…``"95"``, ``"2A"``, ``"2B"``, ``"971"``…) of a commune.

    Raises :class:`GeocodingError` (field ``"insee"``) for an unknown code.
    """
    c = commune(insee)
    if c is None:
        raise GeocodingError("insee", f"unknown INSEE commune code {insee!r}")
    return c.department


def is_known_department(code: str) -> bool:
    """Whether ``code`` is a department code of the 2025 COG (e.g. ``"2A"``, ``"971"``)."""
    return code in _get_index().by_department


def departments() -> tuple[str, ...]:
    """All department codes, sorted."""
    return tuple(sorted(_get_index().by_department))


def communes_in_department(dep: str, *, arrondissements: bool = False) -> tuple[Commune, ...]:
    """Communes of a department (empty for an unknown department).

    With ``arrondissements=True``, Paris, Lyon and Marseille are replaced by their
    municipal arrondissements.
    """
    index = _get_index()
    groups = index.by_department_split if arrondissements else index.by_department
    return groups.get(dep, ())


def all_communes(*, arrondissements: bool = False) -> tuple[Commune, ...]:
    """Every commune of the reference data, each inhabitant counted once.

    Mind that ``population`` is ``None`` for a few communes (see :class:`Commune`).

    With ``arrondissements=True``, Paris, Lyon and Marseille are replaced by their
    municipal arrondissements (finer grain, same total population).
    """
    index = _get_index()
    return index.communes_split if arrondissements else index.communes
