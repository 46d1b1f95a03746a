"""Signed ticket codes: what the QR code carries, verified with the public key alone; a
tampered body or signature, an unknown key id, anything malformed is refused; keys rotate."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.exceptions import ImproperlyConfigured

from ticketing import security, ticket_signing
from ticketing.ticket_signing import CodeInvalid

CODE = "Zx3kP0qLm8VtR2wYb7NcJd5A"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_signed_code_carries_the_ticket_code_and_screening_as_compact_json():
    text = ticket_signing.sign(code=CODE, screening_id=42)
    assert text.startswith("MQ2:dev.")
    _kid, body, sig = text[4:].split(".")
    assert unb64(body) == b'{"t":"Zx3kP0qLm8VtR2wYb7NcJd5A","s":42}'
    assert "=" not in body + sig and len(unb64(sig)) == 64
    assert ticket_signing.verify(text) == ticket_signing.Scanned(CODE, 42, signed=True)


def test_a_door_verifies_a_code_with_the_published_public_key_alone():
    text = ticket_signing.sign(code=CODE, screening_id=7)
    (published,) = ticket_signing.public_keys()
    assert published["kid"] == "dev" and published["alg"] == "Ed25519"
    kid, body, sig = text[4:].split(".")
    public = Ed25519PublicKey.from_public_bytes(unb64(published["public_key"]))
    public.verify(unb64(sig), f"{kid}.{body}".encode("ascii"))  # raises if it does not hold


def test_a_tampered_body_is_refused():
    text = ticket_signing.sign(code=CODE, screening_id=42)
    kid, _, sig = text[4:].split(".")
    forged = b64(json.dumps({"t": CODE, "s": 43}, separators=(",", ":")).encode())
    with pytest.raises(CodeInvalid, match="bad signature"):
        ticket_signing.verify(f"MQ2:{kid}.{forged}.{sig}")


def test_a_tampered_signature_is_refused():
    text = ticket_signing.sign(code=CODE, screening_id=42)
    kid, body, sig = text[4:].split(".")
    flipped = bytearray(unb64(sig))
    flipped[10] ^= 1
    with pytest.raises(CodeInvalid, match="bad signature"):
        ticket_signing.verify(f"MQ2:{kid}.{body}.{b64(bytes(flipped))}")


def test_a_code_signed_by_an_unknown_key_is_refused(settings):
    settings.MARQUEE_TICKET_SIGNING_KEYS = ticket_signing.new_key_text("other")
    text = ticket_signing.sign(code=CODE, screening_id=42)
    settings.MARQUEE_TICKET_SIGNING_KEYS = ""
    with pytest.raises(CodeInvalid, match="unknown key"):
        ticket_signing.verify(text)


def test_a_code_signed_by_another_key_under_our_kid_is_refused(settings):
    settings.MARQUEE_TICKET_SIGNING_KEYS = ticket_signing.new_key_text("dev")
    forged = ticket_signing.sign(code=CODE, screening_id=42)
    settings.MARQUEE_TICKET_SIGNING_KEYS = ""
    with pytest.raises(CodeInvalid, match="bad signature"):
        ticket_signing.verify(forged)


def test_after_a_rotation_the_new_key_signs_and_the_old_one_still_verifies(settings):
    old, new = ticket_signing.new_key_text("2026-06"), ticket_signing.new_key_text("2026-12")
    settings.MARQUEE_TICKET_SIGNING_KEYS = old
    before = ticket_signing.sign(code=CODE, screening_id=1)
    settings.MARQUEE_TICKET_SIGNING_KEYS = f"{new},{old}"
    after = ticket_signing.sign(code=CODE, screening_id=1)
    assert before.startswith("MQ2:2026-06.") and after.startswith("MQ2:2026-12.")
    assert ticket_signing.verify(before).code == ticket_signing.verify(after).code == CODE
    assert [k["kid"] for k in ticket_signing.public_keys()] == ["2026-12", "2026-06"]
    settings.MARQUEE_TICKET_SIGNING_KEYS = new  # the old key retired: its codes no longer pass
    with pytest.raises(CodeInvalid, match="unknown key"):
        ticket_signing.verify(before)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "MQ2:",
        "MQ2:dev.abc",
        "MQ2:dev.a.b.c",
        "MQ2:dev.!!!.???",
        "MQ2:dev.e30.AAAA",  # {} with a short signature
        "x" * 600,
        "<script>",
        "MQT:",
        "MQT:short",
        "hello world",
    ],
)
def test_malformed_texts_are_refused_never_crash(text):
    with pytest.raises(CodeInvalid):
        ticket_signing.parse(text)


def test_a_signed_body_that_is_not_a_ticket_is_refused(settings):
    key = ticket_signing.keys()[0]
    for claims in ([1, 2], {"t": 5, "s": 1}, {"t": CODE, "s": "1"}, {"t": CODE, "s": True}):
        body = b64(json.dumps(claims).encode())
        sig = b64(key.private.sign(f"dev.{body}".encode()))
        with pytest.raises(CodeInvalid, match="malformed body"):
            ticket_signing.verify(f"MQ2:dev.{body}.{sig}")


def test_old_qr_codes_and_typed_codes_name_the_ticket_unsigned():
    assert ticket_signing.parse(f"MQT:{CODE}") == ticket_signing.Scanned(CODE)
    assert ticket_signing.parse(f"  {CODE}\n") == ticket_signing.Scanned(CODE)


def test_the_keys_setting_is_checked_and_never_echoes_a_key():
    good = ticket_signing.new_key_text("a")
    assert [k.kid for k in ticket_signing.parse_keys(f"{good}, ")] == ["a"]
    for raw, said in [
        ("nokey", "not 'kid:key'"),
        ("a b:xyz", "not 'kid:key'"),
        ("a:c2hvcnQ", "not base64url of 32 bytes"),
        (f"{good},{good}", "given twice"),
    ]:
        with pytest.raises(ImproperlyConfigured, match=said) as caught:
            ticket_signing.parse_keys(raw)
        assert good.split(":")[1] not in str(caught.value)


def test_production_refuses_to_start_without_signing_keys():
    production = {
        "debug": False,
        "secret_key": "s" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz",
        "payment_providers": ["stripe"],
        "sandbox_opted_in": False,
        "sandbox_webhook_secret": "",
        "rates": {},
    }
    with pytest.raises(ImproperlyConfigured, match="MARQUEE_TICKET_SIGNING_KEYS is not set"):
        security.refuse_unsafe(**production, ticket_signing_keys="")
    with pytest.raises(ImproperlyConfigured, match="not base64url"):
        security.refuse_unsafe(**production, ticket_signing_keys="k:abc")
    security.refuse_unsafe(**production, ticket_signing_keys=ticket_signing.new_key_text("k"))
    security.refuse_unsafe(**{**production, "debug": True}, ticket_signing_keys="")  # derived key


def test_the_development_key_is_derived_from_the_secret_key(settings):
    settings.MARQUEE_TICKET_SIGNING_KEYS = ""  # as in DEBUG with nothing set
    first = ticket_signing.keys()[0].public_raw
    assert ticket_signing.keys()[0].kid == "dev"
    assert ticket_signing.derived_key(settings.SECRET_KEY).public_raw == first
    settings.SECRET_KEY = settings.SECRET_KEY + "-other-site"
    assert ticket_signing.keys()[0].public_raw != first


def test_a_production_process_without_signing_keys_does_not_start():
    from tests.security.startup import production, start

    done = start(production(MARQUEE_TICKET_SIGNING_KEYS=""))
    assert done.returncode != 0
    assert "MARQUEE_TICKET_SIGNING_KEYS is not set" in done.stderr
    assert start(production()).returncode == 0
