"""Codes people read and codes nobody should guess."""

import secrets

# Crockford's base32 without I, L, O, U: easy to read out over the phone.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def order_code() -> str:
    return "MQ-" + "".join(secrets.choice(ALPHABET) for _ in range(6))


def ticket_code() -> str:
    return secrets.token_urlsafe(18)
