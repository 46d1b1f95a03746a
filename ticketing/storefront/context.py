"""What every storefront page knows: the languages offered and the one in use."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation


def site(request) -> dict:
    return {
        "site_languages": settings.LANGUAGES,
        "site_language": translation.get_language() or settings.LANGUAGE_CODE,
    }
