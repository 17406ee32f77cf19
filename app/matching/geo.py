"""Great-circle distances, scalar (reference) and vectorised (candidate generation)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)

FloatArray = npt.NDArray[np.float64]


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in km; the scalar reference used by rules and validation."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def unit_vectors(lat: FloatArray, lon: FloatArray) -> FloatArray:
    """Points on the unit sphere, shape (n, 3): Euclidean nearest neighbours there are
    great-circle nearest neighbours, so a plain k-d tree serves as a spatial index."""
    p, lam = np.radians(lat), np.radians(lon)
    cos_p = np.cos(p)
    return np.column_stack((cos_p * np.cos(lam), cos_p * np.sin(lam), np.sin(p)))


def chord_to_km(chord: FloatArray) -> FloatArray:
    """Great-circle km from chord length on the unit sphere."""
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, chord / 2))


def km_to_chord(km: float) -> float:
    """Chord length on the unit sphere of a great-circle distance in km (monotonic)."""
    return 2 * math.sin(min(math.pi / 2, km / (2 * EARTH_RADIUS_KM)))


def km_to_chords(km: FloatArray) -> FloatArray:
    """:func:`km_to_chord` of each distance."""
    return np.asarray(2 * np.sin(np.minimum(math.pi / 2, km / (2 * EARTH_RADIUS_KM))))
