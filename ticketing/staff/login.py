"""Signing staff in: a password, then a code from their phone (TOTP, django-otp).

1. `/staff/login/`: username and password, throttled as `/admin/login/` always was (every post
   per client address, failures per address and per username; ticketing/staff_login.py). A
   right password does not sign anyone in yet: the session remembers, for five minutes, who
   passed it (and where to go next), so a password alone never makes a signed-in session.
2. `/staff/login/code/`: the six-digit code of their authenticator, or one of their backup
   codes. Every code typed counts per member (`staff_otp`, 10 an hour), before it is checked,
   so parallel guesses cannot slip past the count: a guesser who has the password gets a
   handful of tries, not a million.
3. A member with no authenticator yet enrols right after the password
   (`/staff/login/enrol/`): a QR code to scan and the secret as text, a first code to confirm
   it, then ten backup codes shown once.

Only then is the session signed in with both factors (`user.is_verified()`), which `@staff_page`
and the admin (admin_site.py) ask for. `next` is followed only to this site.
With `MARQUEE_STAFF_OTP=off` (development only: ticketing/security.py refuses it in production)
the password signs in.
"""

from __future__ import annotations

import logging
import math
import time
from base64 import b32encode

import segno
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from ticketing.client_ip import client_key
from ticketing.ratelimit import ClientRateThrottle
from ticketing.staff_login import FailedSignIns, SignInAttempts, username_ident

from . import access, devices

log = logging.getLogger(__name__)

PENDING = "marquee_staff_sign_in"  # session key: who passed the password, until when, next
PENDING_SECONDS = 300
DEFAULT_NEXT = "/staff/"


class CodeAttempts(ClientRateThrottle):
    """Codes typed for one staff member, wherever they come from."""

    scope = "staff_otp"

    def __init__(self, user_id: int) -> None:
        super().__init__()
        self.ident = f"user:{user_id}"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


def safe_next(request: HttpRequest, target: str | None) -> str:
    """`target` if it stays on this site, else the staff home."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return DEFAULT_NEXT


# --- step 1: the password -------------------------------------------------------------------
@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method != "POST":
        if access.is_signed_in(request.user):
            return redirect(next_url)
        return _password_page(request, next_url)
    return password_post(request, next_url)


def password_post(request: HttpRequest, next_url: str) -> HttpResponse:
    """A password post, counted as `/admin/login/`'s always were; shared by both addresses."""
    username = request.POST.get("username", "")
    failures = [FailedSignIns("addr:" + client_key(request))]
    if username.strip():
        failures.append(FailedSignIns(username_ident(username)))
    over = [t for t in failures if t.is_exhausted(request)]
    attempts = SignInAttempts()
    if not over and not attempts.allow_request(request, None):
        over = [attempts]
    if over:
        return throttled(request, over)

    password = request.POST.get("password", "")
    # A NUL byte cannot be in a username (PostgreSQL refuses it in a query: a 500 before).
    typed = "\x00" not in username and "\x00" not in password
    user = authenticate(request, username=username, password=password) if typed else None
    if user is None or not (user.is_active and user.is_staff):
        for throttle in failures:
            throttle.add(request)
        return _password_page(
            request,
            next_url,
            error="The username and password do not match a staff account. Both are "
            "case-sensitive.",
            username=username,
        )

    if not access.otp_required():
        auth_login(request, user)
        return redirect(next_url)
    request.session.cycle_key()  # a new session id once a password was right
    request.session[PENDING] = {
        "user": user.pk,
        "backend": user.backend,
        "until": time.time() + PENDING_SECONDS,
        "next": next_url,
    }
    if devices.has_authenticator(user):
        return redirect("staff:login-code")
    return redirect("staff:login-enrol")


def _password_page(request, next_url, *, error="", username="", status=200):
    return render(
        request,
        "staff/login.html",
        {"title": "Sign in", "next": next_url, "error": error, "username": username},
        status=status,
    )


def throttled(request: HttpRequest, over) -> HttpResponse:
    wait = max(1, math.ceil(max(t.wait() for t in over)))
    log.warning("staff sign-in throttled for %s (%s)", client_key(request), over[0].scope)
    response = render(
        request,
        "staff/login_throttled.html",
        {"title": "Too many attempts", "wait": wait},
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response


def _pending_user(request: HttpRequest):
    """The member who passed the password in this session in the last five minutes, or None."""
    pending = request.session.get(PENDING)
    if not pending or pending.get("until", 0) < time.time():
        request.session.pop(PENDING, None)
        return None, None
    user = (
        get_user_model().objects.filter(pk=pending["user"], is_active=True, is_staff=True).first()
    )
    if user is None:
        return None, None
    user.backend = pending["backend"]
    return user, pending


def _finish(request: HttpRequest, user, device) -> None:
    """Both factors passed: the session is signed in and verified."""
    request.session.pop(PENDING, None)
    auth_login(request, user, backend=user.backend)
    otp_login(request, device)


def _code_from(request: HttpRequest) -> str:
    return "".join(request.POST.get("code", "").split()).lower()


def _devices_for_token(signing_devices, token: str):
    """The devices that could have made `token`: six digits are the authenticator's, eight
    characters a backup code. Trying only those keeps django-otp's own per-device backoff for
    the device that was actually used."""
    if not (token.isascii() and token.isalnum()):
        return  # no code has other characters (a NUL byte reached the database: a 500)
    for device in signing_devices:
        if isinstance(device, TOTPDevice):
            if token.isdigit() and len(token) == device.digits:
                yield device
        elif len(token) == 8:
            yield device


# --- step 2: the code -----------------------------------------------------------------------
@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def code(request: HttpRequest) -> HttpResponse:
    user, pending = _pending_user(request)
    if user is None:
        return _start_again(request)
    signing_devices = devices.sign_in_devices(user)
    if not any(isinstance(d, TOTPDevice) for d in signing_devices):
        return redirect("staff:login-enrol")
    if request.method != "POST":
        return _code_page(request, user)

    attempts = CodeAttempts(user.pk)
    if not attempts.allow_request(request, None):
        return throttled(request, [attempts])
    token = _code_from(request)
    for device in _devices_for_token(signing_devices, token):
        verified = verify_token(user, device.persistent_id, token)
        if verified is not None:
            _finish(request, user, verified)
            left = devices.backup_codes_left(verified)
            if left is not None:
                log.info("staff member %s signed in with a backup code", user.pk)
                return render(
                    request,
                    "staff/otp_backup_used.html",
                    {
                        "title": "Signed in with a backup code",
                        "left": left,
                        "next": pending["next"],
                    },
                )
            return redirect(pending["next"])
    return _code_page(
        request,
        user,
        error="That code is not right. Type the six digits your authenticator shows now, or "
        "one of your backup codes.",
    )


def _code_page(request, user, *, error=""):
    return render(
        request,
        "staff/otp_code.html",
        {"title": "Your code", "member": user, "error": error},
        status=200,
    )


def _start_again(request):
    return redirect(f"{reverse('staff:login')}?expired=1")


# --- enrolment ------------------------------------------------------------------------------
@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def enrol(request: HttpRequest) -> HttpResponse:
    user, pending = _pending_user(request)
    if user is None:
        return _start_again(request)
    if devices.has_authenticator(user):
        return redirect("staff:login-code")
    device = devices.totp_enrolment_start(user=user, device_id=pending.get("enrolling"))
    if pending.get("enrolling") != device.pk:
        request.session[PENDING] = {**pending, "enrolling": device.pk}
    if request.method != "POST":
        return _enrol_page(request, device)

    attempts = CodeAttempts(user.pk)
    if not attempts.allow_request(request, None):
        return throttled(request, [attempts])
    token = _code_from(request)
    if token.isdigit() and verify_token(user, device.persistent_id, token) is not None:
        device.refresh_from_db()
        codes = devices.totp_enrolment_confirm(device=device)
        _finish(request, user, device)
        return render(
            request,
            "staff/otp_backup_codes.html",
            {"title": "Your backup codes", "codes": codes, "next": pending["next"]},
        )
    return _enrol_page(
        request,
        device,
        error="That code is not right. Check the phone's clock is set automatically, and type "
        "the code the app shows now.",
    )


def _enrol_page(request, device: TOTPDevice, *, error=""):
    url = device.config_url
    secret = b32encode(device.bin_key).decode()
    return render(
        request,
        "staff/otp_enrol.html",
        {
            "title": "Set up your authenticator",
            "qr_svg": segno.make(url, error="m").svg_inline(
                scale=4, omitsize=True, title="QR code for your authenticator app"
            ),
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "error": error,
            "otpauth_url": url,
        },
    )


@require_POST
def logout(request):
    auth_logout(request)
    return redirect("staff:login")


urlpatterns = [
    path("login/", login, name="login"),
    path("login/code/", code, name="login-code"),
    path("login/enrol/", enrol, name="login-enrol"),
    path("logout/", logout, name="logout"),
]
