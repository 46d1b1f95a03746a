"""The buyer's plain words for refusals of the onsale and of a moved screening, in their language."""

from __future__ import annotations

from django.utils import translation

from ticketing import errors
from ticketing.storefront import messages


def test_the_onsale_limit_says_the_limit_and_what_is_left_in_each_language():
    refused = errors.OnsaleLimitReached(limit=4, left=1, requested=2, per="email")
    with translation.override("en"):
        assert messages.explain(refused) == (
            "This sale allows 4 tickets per buyer. You may add 1 more."
        )
    with translation.override("fr"):
        assert messages.explain(refused) == (
            "Cette vente permet 4 billets par acheteur. Vous pouvez en ajouter encore 1."
        )
    with translation.override("zh-hans"):
        assert messages.explain(refused) == "本次开售每位购票者限购4张票。您还可以再加1张。"


def test_a_buyer_with_nothing_left_is_told_so():
    refused = errors.OnsaleLimitReached(limit=1, left=0, requested=1, per="waiter")
    with translation.override("en"):
        assert messages.explain(refused) == (
            "This sale allows 1 ticket per buyer. "
            "You have already bought or held as many as you may."
        )
    with translation.override("fr"):
        assert messages.explain(refused).startswith("Cette vente permet 1 billet par acheteur.")


def test_a_moved_screening_and_a_limit_without_figures_are_plain_words_too():
    with translation.override("fr"):
        assert messages.explain(errors.ScreeningChanged(screening=1)).startswith(
            "Le cinéma vient de déplacer cette séance"
        )
        assert messages.explain(errors.OnsaleLimitReached()).startswith(
            "Cette vente limite le nombre de billets"
        )
    with translation.override("en"):
        assert "refunded" in messages.explain(errors.OnsaleLimitLost())
