"""The shared HMAC primitive (ticketing/signing.py): what payments' provider webhooks and the
partners' Standard Webhooks both sign with."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from ticketing import signing

# The Standard Webhooks specification's published test vector.
KEY = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")  # whsec_MfKQ9r8G...
WEBHOOK_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def verify_vector(*, now, body=BODY, context=(WEBHOOK_ID,), key=KEY) -> None:
    """Check the reference signature against this body, id and key, 300 s of tolerance."""
    signing.verify(
        key, TIMESTAMP, body, SIGNATURE, tolerance=300, context=context, encode=b64, now=now
    )


def test_signing_id_timestamp_and_body_reproduces_the_standard_webhooks_reference_signature():
    assert signing.sign(KEY, TIMESTAMP, BODY, context=(WEBHOOK_ID,), encode=b64) == SIGNATURE


def test_a_signature_is_accepted_within_the_tolerance_either_side_of_now():
    for now in (TIMESTAMP - 300, TIMESTAMP, TIMESTAMP + 300):
        verify_vector(now=now)


def test_a_signature_outside_the_tolerance_is_expired_even_when_it_matches():
    for now in (TIMESTAMP - 301, TIMESTAMP + 301):
        with pytest.raises(signing.SignatureExpired) as caught:
            verify_vector(now=now)
        assert caught.value.code == "signature_expired"


@pytest.mark.parametrize(
    ("body", "context", "key"),
    [
        (BODY + b" ", (WEBHOOK_ID,), KEY),  # the body changed
        (BODY, ("msg_another",), KEY),  # replayed under another id
        (BODY, (), KEY),  # the id left out
        (BODY, (WEBHOOK_ID,), b"another key"),
    ],
)
def test_any_change_to_what_was_signed_makes_the_signature_invalid(body, context, key):
    with pytest.raises(signing.SignatureInvalid) as caught:
        verify_vector(now=TIMESTAMP, body=body, context=context, key=key)
    assert caught.value.code == "signature_invalid"
    assert isinstance(caught.value, signing.SignatureError)


def test_the_default_signature_is_the_hex_digest_over_timestamp_dot_body():
    expected = hmac.new(b"k", b"1614265330." + BODY, hashlib.sha256).hexdigest()
    assert signing.sign(b"k", TIMESTAMP, BODY) == expected
    signing.verify(b"k", TIMESTAMP, BODY, expected, tolerance=1, now=TIMESTAMP)
