"""Which CLDR locale (Babel's data) writes a Django language: one table for every place that
formats for a reader, the storefront's pages and the emails alike."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from django.utils import translation

# Django language code -> CLDR locale. English is written the European way (24-hour clock,
# day before month): Marquee's cinemas sell in euros and pounds first.
LOCALES = {"en": "en_GB", "fr": "fr_FR", "zh-hans": "zh_Hans_CN"}


def locale(language: str | None = None) -> Locale:
    """The locale of `language`, or of the active language; en_GB for anything unknown."""
    code = language or translation.get_language() or "en"
    try:
        return Locale.parse(LOCALES.get(code.lower(), code.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en_GB")
