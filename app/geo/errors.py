"""Errors raised by the geocoding package."""

from __future__ import annotations

__all__ = ["GeocodingError"]


class GeocodingError(ValueError):
    """Invalid, unknown or inconsistent geographic input.

    ``field`` names the offending input field (``"insee"``, ``"postcode"``, ``"lat"``
    or ``"lon"``) so that the HTTP layer can report it (422).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
