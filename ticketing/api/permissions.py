from rest_framework.permissions import BasePermission

from ticketing.partners.models import Scope


class CanBook(BasePermission):
    """Holds and orders: a partner key with the `book` scope, or a signed-in session (CSRF)."""

    message = "This API key may not book; it lacks the 'book' scope."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not getattr(user, "is_authenticated", False):
            from rest_framework.exceptions import NotAuthenticated

            raise NotAuthenticated("Send 'Authorization: Bearer <api key>' or sign in.")
        api_key = getattr(user, "api_key", None)
        return api_key is None or Scope.BOOK in api_key.scopes
