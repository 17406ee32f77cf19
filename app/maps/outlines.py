"""Department outlines, read once from the vendored GeoJSON and projected for drawing.

The projection is equirectangular around each territory's mean latitude (x = lon·cos φ₀,
y = lat): at the scale of France or of one department it keeps shapes recognisable, and
it needs no projection library. Overseas departments are projected around their own
latitude, since they are drawn as insets. Everything here is computed once per process
and cached: a map then only has to colour ready-made paths.
"""

from __future__ import annotations

import functools
import gzip
import itertools
import json
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

import numpy as np
from matplotlib.path import Path

DATA_FILE: Final = "departements-2018.geojson.gz"
OVERSEAS: Final = ("971", "972", "973", "974", "976")
METROPOLE_LATITUDE: Final = 46.5

Ring = list[tuple[float, float]]


@dataclass(frozen=True)
class Outline:
    """One department: its name and a drawable projected path."""

    code: str
    name: str
    origin_latitude: float
    path: Path

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Projected (xmin, ymin, xmax, ymax)."""
        vertices = np.asarray(self.path.vertices)
        xmin, ymin = vertices.min(axis=0)
        xmax, ymax = vertices.max(axis=0)
        return float(xmin), float(ymin), float(xmax), float(ymax)

    def project(self, lon: float, lat: float) -> tuple[float, float]:
        return project(lon, lat, self.origin_latitude)


def project(lon: float, lat: float, origin_latitude: float) -> tuple[float, float]:
    return lon * math.cos(math.radians(origin_latitude)), lat


def _signed_area(ring: Ring) -> float:
    return 0.5 * sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))


def _polygons(geometry: dict[str, Any]) -> list[list[Ring]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return list(geometry["coordinates"])
    raise ValueError(f"unexpected geometry {geometry['type']}")


def _path(polygons: list[list[Ring]], origin_latitude: float) -> Path:
    """One compound path; exterior rings counter-clockwise and holes clockwise, so that
    the default non-zero fill leaves enclaves (Vaucluse's inside Drôme) empty."""
    vertices: list[tuple[float, float]] = []
    codes: list[np.uint8] = []
    for polygon in polygons:
        for index, raw in enumerate(polygon):
            ring = [project(lon, lat, origin_latitude) for lon, lat in raw]
            clockwise = _signed_area(ring) < 0
            if clockwise != (index > 0):
                ring.reverse()
            vertices.extend(ring)
            codes.extend([Path.MOVETO, *[Path.LINETO] * (len(ring) - 2), Path.CLOSEPOLY])
    return Path(np.asarray(vertices), np.asarray(codes, dtype=np.uint8))


@functools.cache
def outlines() -> dict[str, Outline]:
    """Every department by code (101: metropolitan, Corsica as 2A/2B, overseas)."""
    raw = resources.files("app.maps").joinpath("data", DATA_FILE).read_bytes()
    collection = json.loads(gzip.decompress(raw))
    found: dict[str, Outline] = {}
    for feature in collection["features"]:
        code = feature["properties"]["code"]
        polygons = _polygons(feature["geometry"])
        if code in OVERSEAS:
            latitudes = [lat for polygon in polygons for _, lat in polygon[0]]
            origin = sum(latitudes) / len(latitudes)
        else:
            origin = METROPOLE_LATITUDE
        found[code] = Outline(
            code=code,
            name=feature["properties"]["nom"],
            origin_latitude=origin,
            path=_path(polygons, origin),
        )
    return dict(sorted(found.items()))


def department_codes() -> list[str]:
    return list(outlines())


def metropolitan_codes() -> list[str]:
    return [code for code in outlines() if code not in OVERSEAS]
