"""Ticket codes signed by the server, so a door can check a ticket without the network.

A ticket's QR code reads `MQ2:<kid>.<body>.<sig>`:

- `body` is base64url (no padding) of the compact UTF-8 JSON `{"t":"<ticket code>","s":<screening
  id>}`: nothing personal, only what the door needs to find the ticket in the list it cached;
- `sig` is base64url (no padding) of the Ed25519 signature of the ASCII bytes `<kid>.<body>`;
- `kid` names the key that signed it, so keys can rotate: the door fetches every public key
  (`GET /api/v1/checkins/keys/`) and verifies with the one named.

Ed25519 rather than an HMAC: a door holds only public keys, so a stolen phone cannot mint tickets.

Keys come from `MARQUEE_TICKET_SIGNING_KEYS` (settings), `kid:<base64url raw 32-byte private key>`
comma separated: the first signs, all verify. Rotating is putting a new key first and keeping
the old ones while tickets signed with them are still to be used (docs/operations.md, "Ticket
signing keys"). Without the setting (DEBUG and tests only: production refuses to start, see
ticketing/security.py) one key derived from SECRET_KEY with HKDF, kid `dev`, signs and verifies.

Tickets sold before signed codes (`MQT:<code>`) and codes typed by hand are looked up online
only; this module says which of the three a scanned text is (`parse`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "MQ2:"
LEGACY_PREFIX = "MQT:"
ALGORITHM = "Ed25519"
DEV_KID = "dev"
KID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# A ticket code is `secrets.token_urlsafe(18)` (24 characters); typed codes are cut at this.
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_TEXT = 512  # far more than a real code; a longer text is refused before any decoding


class CodeInvalid(Exception):
    """A scanned text that is not a ticket code we made: malformed, forged, altered, or signed
    by a key this server does not know. `reason` says which, for the logs and the door."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def public_raw(self) -> bytes:
        return self.public.public_bytes(
            encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
        )


@dataclass(frozen=True)
class Scanned:
    """What a scanned or typed text names: a ticket code, with the screening when it was signed
    (`signed` says whether the signature was checked)."""

    code: str
    screening_id: int | None = None
    signed: bool = False


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise CodeInvalid("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise CodeInvalid("not base64url") from exc


# --- the keys -----------------------------------------------------------------------------------
def parse_keys(raw: str) -> list[SigningKey]:
    """`MARQUEE_TICKET_SIGNING_KEYS` read: `kid:base64url-key,...`. Raises ImproperlyConfigured
    naming what is wrong (never the key itself)."""
    keys: list[SigningKey] = []
    for position, item in enumerate((p.strip() for p in raw.split(",")), start=1):
        if not item:
            continue
        kid, sep, encoded = item.partition(":")
        kid = kid.strip()
        if not sep or not KID_PATTERN.match(kid):
            raise ImproperlyConfigured(
                f"MARQUEE_TICKET_SIGNING_KEYS: entry {position} is not 'kid:key' with a kid of "
                "letters, digits, '-' or '_' (at most 32)."
            )
        try:
            secret = b64url_decode(encoded.strip())
        except CodeInvalid:
            secret = b""
        if len(secret) != 32:
            raise ImproperlyConfigured(
                f"MARQUEE_TICKET_SIGNING_KEYS: the key of {kid!r} is not base64url of 32 bytes "
                "(generate one with `python manage.py ticket_signing_key KID`)."
            )
        if any(k.kid == kid for k in keys):
            raise ImproperlyConfigured(f"MARQUEE_TICKET_SIGNING_KEYS: {kid!r} is given twice.")
        keys.append(SigningKey(kid, Ed25519PrivateKey.from_private_bytes(secret)))
    return keys


def derived_key(secret_key: str) -> SigningKey:
    """The development key: HKDF-SHA256 of SECRET_KEY, so every process of one site agrees."""
    seed = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"marquee ticket signing (dev)"
    ).derive(secret_key.encode())
    return SigningKey(DEV_KID, Ed25519PrivateKey.from_private_bytes(seed))


def _private_text(key: SigningKey) -> str:
    raw = key.private.private_bytes(
        encoding=serialization.Encoding.Raw,
        format=serialization.PrivateFormat.Raw,
        encryption_algorithm=serialization.NoEncryption(),
    )
    return f"{key.kid}:{b64url(raw)}"


def derived_key_text(secret_key: str) -> str:
    """The development key as a MARQUEE_TICKET_SIGNING_KEYS entry: the test settings (which are
    production's) name it on purpose rather than be refused for having none."""
    return _private_text(derived_key(secret_key))


def new_key_text(kid: str) -> str:
    """A fresh `kid:key` entry for MARQUEE_TICKET_SIGNING_KEYS."""
    if not KID_PATTERN.match(kid):
        raise ValueError("a kid is letters, digits, '-' or '_' (at most 32)")
    return _private_text(SigningKey(kid, Ed25519PrivateKey.generate()))


@lru_cache(maxsize=8)
def _keys_for(raw: str, secret_key: str) -> tuple[SigningKey, ...]:
    return tuple(parse_keys(raw)) or (derived_key(secret_key),)


def keys() -> tuple[SigningKey, ...]:
    """The site's keys, the signing one first (read from settings, parsed once per value)."""
    return _keys_for(getattr(settings, "MARQUEE_TICKET_SIGNING_KEYS", ""), settings.SECRET_KEY)


def public_keys() -> list[dict]:
    """What a door needs to verify offline: every key's id and raw public key."""
    return [{"kid": k.kid, "alg": ALGORITHM, "public_key": b64url(k.public_raw)} for k in keys()]


# --- signing and reading ------------------------------------------------------------------------
def sign(*, code: str, screening_id: int) -> str:
    """The QR text of a ticket: `MQ2:<kid>.<body>.<sig>`."""
    key = keys()[0]
    body = b64url(json.dumps({"t": code, "s": screening_id}, separators=(",", ":")).encode())
    signed = f"{key.kid}.{body}"
    return f"{PREFIX}{signed}.{b64url(key.private.sign(signed.encode('ascii')))}"


def verify(text: str) -> Scanned:
    """The ticket a `MQ2:` text names, once its signature is checked; raises CodeInvalid."""
    if not text.startswith(PREFIX):
        raise CodeInvalid("not a signed code")
    parts = text[len(PREFIX) :].split(".")
    if len(parts) != 3:
        raise CodeInvalid("malformed")
    kid, body, sig = parts
    key = next((k for k in keys() if k.kid == kid), None)
    if key is None:
        raise CodeInvalid("unknown key")
    signature = b64url_decode(sig)
    if len(signature) != 64:
        raise CodeInvalid("bad signature")
    try:
        key.public.verify(signature, f"{kid}.{body}".encode("ascii"))
    except (InvalidSignature, UnicodeEncodeError) as exc:
        raise CodeInvalid("bad signature") from exc
    try:
        claims = json.loads(b64url_decode(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CodeInvalid("malformed body") from exc
    code, screening = (claims.get("t"), claims.get("s")) if isinstance(claims, dict) else (0, 0)
    if not isinstance(code, str) or not CODE_PATTERN.match(code):
        raise CodeInvalid("malformed body")
    if not isinstance(screening, int) or isinstance(screening, bool) or screening < 1:
        raise CodeInvalid("malformed body")
    return Scanned(code=code, screening_id=screening, signed=True)


def parse(text: str) -> Scanned:
    """What a scanned or typed text names: a signed code (checked), an old `MQT:<code>`, or a
    bare ticket code typed at the door. Raises CodeInvalid for anything else."""
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise CodeInvalid("malformed")
    if text.startswith(PREFIX):
        return verify(text)
    if text.startswith(LEGACY_PREFIX):
        text = text[len(LEGACY_PREFIX) :]
    if not CODE_PATTERN.match(text):
        raise CodeInvalid("malformed")
    return Scanned(code=text)
