"""The message catalogues and the translation of composed messages.

A catalogue entry's ``msgid`` is an English message with its variable parts as
``{named}`` placeholders; a composed message is translated by finding the entry whose
pattern matches it whole (the most specific one when several do) and filling the
translation with the captured values. Values of the placeholders listed in
``NESTED_MESSAGES`` are messages themselves and are translated in turn; the others (codes,
ids, API values) are kept as they are.
"""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "binome"
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
NESTED_MESSAGES = frozenset({"message", "action", "what", "hint"})
MAX_TRANSLATED_LENGTH = 4096  # longer texts are not messages of the catalogue


@dataclass(frozen=True)
class Entry:
    msgid: str
    msgstr: str
    pattern: re.Pattern[str]
    names: tuple[str, ...]
    literal_length: int  # characters outside placeholders: the more, the more specific


def _compile(msgid: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    parts: list[str] = []
    names: list[str] = []
    position = 0
    for found in PLACEHOLDER.finditer(msgid):
        parts.append(re.escape(msgid[position : found.start()]))
        parts.append(f"(?P<g{len(names)}>.+?)")
        names.append(found.group(1))
        position = found.end()
    parts.append(re.escape(msgid[position:]))
    return re.compile("".join(parts), re.DOTALL), tuple(names)


@cache
def catalog(locale: str) -> Catalog | None:
    """A locale's catalogue as Babel reads it (None for English, the code's language)."""
    path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=DOMAIN)


@cache
def labels(context: str, locale: str) -> dict[str, str]:
    """The translated names of one context (``column``: CSV headers), by English name."""
    found = catalog(locale)
    if found is None:
        return {}
    return {
        str(message.id): str(message.string)
        for message in found
        if message.context == context and message.string
    }


@cache
def entries(locale: str) -> tuple[Entry, ...]:
    """The entries of a locale's catalogue, most specific first (empty for English)."""
    catalog_ = catalog(locale)
    if catalog_ is None:
        return ()
    found = []
    for message in catalog_:
        if not message.id or not isinstance(message.id, str) or message.context:
            continue
        assert isinstance(message.string, str)
        pattern, names = _compile(message.id)
        literal = len(PLACEHOLDER.sub("", message.id))
        found.append(Entry(message.id, message.string, pattern, names, literal))
    return tuple(sorted(found, key=lambda entry: -entry.literal_length))


def translation(
    text: str, locale: str, *, strict: bool = False, samples: frozenset[str] = frozenset()
) -> str | None:
    """``text`` in ``locale``, or None when the catalogue has no message for it (nor,
    when ``strict``, for every message nested in it but the stand-ins in ``samples``)."""
    if len(text) > MAX_TRANSLATED_LENGTH:
        return None
    for entry in entries(locale):
        found = entry.pattern.fullmatch(text)
        if found is None:
            continue
        values = {}
        for index, name in enumerate(entry.names):
            value = found.group(f"g{index}")
            if name in NESTED_MESSAGES:
                nested = translation(value, locale, strict=strict, samples=samples)
                if nested is None and strict and value not in samples:
                    break
                value = nested or value
            values[name] = value
        else:
            return entry.msgstr.format(**values)
    return None


def translate(text: str, locale: str) -> str:
    """``text`` in ``locale`` when the catalogue knows it; as it is otherwise."""
    if locale == "en":
        return text
    return translation(text, locale) or text
