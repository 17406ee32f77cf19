"""Which of the supported languages a request asks for (``Accept-Language``)."""

from babel import negotiate_locale

SUPPORTED_LOCALES = ("en", "fr")
DEFAULT_LOCALE = "en"
MAX_HEADER_LENGTH = 512  # a longer header is not worth parsing: the default applies


def negotiate(accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The best supported locale for an ``Accept-Language`` header (RFC 9110 quality
    values honoured, ``fr-FR`` matching ``fr``); ``default`` when nothing matches."""
    if not accept_language or len(accept_language) > MAX_HEADER_LENGTH:
        return default
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, tag.replace("_", "-")))
    preferred = [tag for _, _, tag in sorted(ranked)]
    if "*" in preferred and not any(
        t.split("-")[0].lower() in SUPPORTED_LOCALES for t in preferred
    ):
        return default
    found = negotiate_locale(
        [tag.split("-")[0].lower() for tag in preferred], SUPPORTED_LOCALES, sep="-"
    )
    return found or default
