"""The codes a staff member's phone would show, computed from the authenticator's key (RFC 6238,
through django-otp's own TOTP)."""

from __future__ import annotations

import time

from django_otp.oath import TOTP


def current_code(hex_key: str, *, steps_ahead: int = 0, step: int = 30, digits: int = 6) -> str:
    totp = TOTP(bytes.fromhex(hex_key), step, 0, digits, 0)
    totp.time = time.time() + steps_ahead * step
    return f"{totp.token():0{digits}d}"


def code_of(device, *, steps_ahead: int = 0) -> str:
    """The code `device` (a TOTPDevice) shows now, or `steps_ahead` 30-second steps later."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device) -> str:
    """Six digits the device accepts at no step near now."""
    right = {code_of(device, steps_ahead=n) for n in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(1000)) if c not in right)
