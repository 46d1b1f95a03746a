"""The one scope check of the API: a view names the scopes it needs, in one line.

    permission_classes = [RequiresScope(Scope.BOOK)]

A partner key must carry every scope named. A signed-in browser session carries no key: it acts
for the person signed in, which is booking (`SESSION_SCOPES`) and nothing else.

A missing scope answers 403 `scope_required` with `details: {"scope": "<name>"}`, as the design's
contract says (errors.ScopeRequired): a partner's code can tell which scope to ask staff for
without reading the message.
"""

from __future__ import annotations

from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission

from ticketing import errors
from ticketing.partners.models import Scope

SESSION_SCOPES = frozenset({Scope.BOOK})


class RequiresScope(BasePermission):
    """A permission for keys with all of `scopes` (checked in order: the first missing is named).

    DRF instantiates each entry of `permission_classes`; an instance answers that call with
    itself (as DRF's own `IsAuthenticated & ...` operands do), so the scopes are given inline.
    """

    def __init__(self, *scopes: Scope):
        if not scopes:
            raise ValueError("RequiresScope needs at least one scope.")
        self.scopes = scopes

    def __call__(self) -> RequiresScope:
        return self

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not getattr(user, "is_authenticated", False):
            raise NotAuthenticated("Send 'Authorization: Bearer <api key>' or sign in.")
        api_key = getattr(user, "api_key", None)
        for scope in self.scopes:
            if api_key is None and scope not in SESSION_SCOPES:
                raise errors.ScopeRequired(
                    f"A signed-in session may not do this; use an API key with the '{scope}' "
                    "scope.",
                    scope=str(scope),
                )
            if api_key is not None and scope not in api_key.scopes:
                raise errors.ScopeRequired(
                    f"This API key lacks the '{scope}' scope.", scope=str(scope)
                )
        return True
