"""The home page's featured-campaign slot.

The promotions app fills it (a studio's campaign for a release, with its banner and call to
action). Until then there is nothing to feature and the slot is not drawn.
"""

from __future__ import annotations


def featured(request) -> dict | None:
    """{"title", "text", "url", "image_url", "film"} of the campaign to feature, or None."""
    return None
