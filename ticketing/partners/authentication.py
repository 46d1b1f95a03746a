"""`Authorization: Bearer mq_...` for partners."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from .services import api_key_check


class PartnerUser:
    """Stands in for request.user when a partner calls: authenticated, never staff."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False

    def __init__(self, api_key):
        self.api_key = api_key
        self.partner = api_key.partner
        self.pk = None

    def __str__(self) -> str:
        return f"partner:{self.partner.pk}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        token = token.strip()
        if not token:
            raise exceptions.AuthenticationFailed("Bearer token missing.")
        key = api_key_check(token)
        if key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        return PartnerUser(key), key

    def authenticate_header(self, request) -> str:
        return self.keyword
