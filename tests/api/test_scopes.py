"""One scope permission for every endpoint that needs one: a key must carry each scope the view
names, the first one missing is named in the 403, and a signed-in session may book, nothing more."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import path
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from tests import factories
from tests.api.support import assert_error
from ticketing.api.permissions import RequiresScope
from ticketing.partners.models import Scope

pytestmark = pytest.mark.django_db

SOME = "00000000-0000-4000-8000-000000000000"
SETTLE = f"/api/v1/orders/{SOME}/settle/"


def bearer(*scopes: str) -> APIClient:
    _, raw = factories.partner_with_key(scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def message(response) -> str:
    """The refusal's message; the refusal names the scope in `details` too."""
    details = assert_error(response, 403, "scope_required")
    message = response.json()["error"]["message"]
    assert f"'{details['scope']}'" in message
    return message


def test_a_key_with_settle_but_not_book_is_told_it_lacks_book():
    response = bearer("read", "settle").post(SETTLE, {"reference": "X"}, format="json")
    assert "'book'" in message(response)


def test_a_key_with_book_but_not_settle_is_told_it_lacks_settle():
    response = bearer("read", "book").post(SETTLE, {"reference": "X"}, format="json")
    assert "'settle'" in message(response)


def test_a_key_with_both_scopes_gets_past_the_permission():
    response = bearer("book", "settle").post(SETTLE, {"reference": "X"}, format="json")
    assert_error(response, 404, "order_not_found")


def test_a_signed_in_session_may_book_but_not_settle():
    client = APIClient()
    client.force_login(get_user_model().objects.create_user("ada", password="x"))

    assert_error(client.get(f"/api/v1/orders/{SOME}/"), 404, "order_not_found")
    response = client.post(SETTLE, {"reference": "X"}, format="json")
    assert "'settle'" in message(response)


def test_a_scope_permission_names_at_least_one_scope():
    with pytest.raises(ValueError):
        RequiresScope()


def _needing(scope: Scope):
    class Needs(APIView):
        permission_classes = [RequiresScope(scope)]

        def get(self, request):
            return Response({"ok": True})

    return path(f"needs/{scope}/", Needs.as_view())


# The scopes of the second stage, each on a view of its own (these tests' URLconf).
urlpatterns = [_needing(s) for s in (Scope.CAMPAIGNS, Scope.REPORTS, Scope.WEBHOOKS)]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("scope", [Scope.CAMPAIGNS, Scope.REPORTS, Scope.WEBHOOKS])
def test_every_scope_a_view_names_is_required_and_named_in_the_403(scope):
    refused = bearer("read", "book", "settle").get(f"/needs/{scope}/")
    assert assert_error(refused, 403, "scope_required") == {"scope": scope.value}
    assert bearer("read", scope).get(f"/needs/{scope}/").status_code == 200
