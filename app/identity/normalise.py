"""The normalised form of an identity: what two organisations writing the same person's
name differently still agree on.

``Zoé-Marie N'Diaye`` and ``zoe marie ndiaye`` both become ``zoemarie`` / ``ndiaye``:
compatibility decomposition (NFKD), combining accents dropped, case folded, and every
character that is not a letter or a digit removed (hyphens, apostrophes of any kind,
spaces, dots). Ligatures NFKD leaves alone are spelled out.
"""

import re
import unicodedata
from datetime import date

LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o"})
SEPARATOR = "\x1f"  # between fields, so that ("ab", "c") and ("a", "bc") differ
# Neither a letter nor a digit: punctuation, spaces, and the combining accents that NFKD
# splits off (they are not alphanumeric).
NOT_ALPHANUMERIC = re.compile(r"[\W_]+")


def normalise_name(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(LIGATURES).casefold())
    return NOT_ALPHANUMERIC.sub("", folded)


def message(first_name: str, last_name: str, birth_date: date) -> bytes:
    """The bytes that are hashed: normalised names and the ISO birth date."""
    parts = (normalise_name(first_name), normalise_name(last_name), birth_date.isoformat())
    return SEPARATOR.join(parts).encode()
