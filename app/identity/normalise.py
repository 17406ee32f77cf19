"""The normalised form of an identity: what two organisations writing the same person's
name differently still agree on.

``Zoé-Marie N'Diaye`` and ``zoe marie ndiaye`` both become ``zoemarie`` / ``ndiaye``:
compatibility decomposition (NFKD), combining accents dropped, case folded, and every
character that is not a letter or a digit removed (hyphens, apostrophes of any kind,
spaces, dots). Ligatures NFKD leaves alone are spelled out.
"""

import unicodedata
from datetime import date

LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o"})
SEPARATOR = "\x1f"  # between fields, so that ("ab", "c") and ("a", "bc") differ


def normalise_name(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(LIGATURES))
    kept = (c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in "".join(kept).casefold() if c.isalnum())


def message(first_name: str, last_name: str, birth_date: date) -> bytes:
    """The bytes that are hashed: normalised names and the ISO birth date."""
    parts = (normalise_name(first_name), normalise_name(last_name), birth_date.isoformat())
    return SEPARATOR.join(parts).encode()
