"""Messages in the caller's language: English (the code's own) or French.

Messages are composed in English where they arise; this package translates them on the
way out, from one catalogue per language (gettext ``.po`` files read with Babel), so no
translated string is scattered through the services.
"""

from app.i18n.catalogue import translate, translation
from app.i18n.negotiation import DEFAULT_LOCALE, SUPPORTED_LOCALES, negotiate

__all__ = ["DEFAULT_LOCALE", "SUPPORTED_LOCALES", "negotiate", "translate", "translation"]
