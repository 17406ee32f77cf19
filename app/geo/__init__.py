"""Offline geocoding of French communes and postcodes (pure standard library).

Reference data: INSEE Code officiel géographique 2025 and IGN ADMIN EXPRESS centroids,
vendored in ``data/`` (see ``data/README.md``).
"""

from app.geo.communes import (
    Commune,
    all_communes,
    commune,
    communes_for_postcode,
    communes_in_department,
    department_of,
    departments,
    is_known_department,
)
from app.geo.distance import haversine_km
from app.geo.errors import GeocodingError
from app.geo.geocode import Place, geocode

__all__ = [
    "Commune",
    "GeocodingError",
    "Place",
    "all_communes",
    "commune",
    "communes_for_postcode",
    "communes_in_department",
    "department_of",
    "departments",
    "geocode",
    "haversine_km",
    "is_known_department",
]
