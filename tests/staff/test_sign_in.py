"""Staff sign in with a password and then a code from their phone (TOTP), or a backup code; a
newcomer sets their phone up on the way; wrong codes are throttled; `next` stays on the site;
the admin wants both factors too."""

from __future__ import annotations

import time
from base64 import b32encode

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories
from tests.concurrency import run_concurrently
from tests.staff.codes import code_of, wrong_code
from tests.staff.support import signed_in, staff_user, totp_device
from ticketing.audit.models import AuditEntry
from ticketing.staff import login as staff_login
from ticketing.staff import roles

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"  # tests/staff/support.py's


def password_step(client, user, next_url="/staff/", password=PASSWORD):
    return client.post(
        "/staff/login/", {"username": user.username, "password": password, "next": next_url}
    )


def signed_in_with_both(client) -> bool:
    return client.get("/staff/").status_code == 200


@pytest.fixture
def member():
    return staff_user(roles.MANAGER, factories.cinema())


@pytest.fixture
def rate(settings):
    def set_rate(**scopes):
        rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **scopes}
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}

    return set_rate


# ---- signing in -----------------------------------------------------------------------------
def test_a_member_signs_in_with_the_password_then_the_code_their_phone_shows(client, member):
    device = totp_device(member)

    response = password_step(client, member, next_url="/staff/")
    assert response.status_code == 302 and response["Location"] == "/staff/login/code/"
    assert "_auth_user_id" not in client.session  # a password alone signs nobody in
    assert not signed_in_with_both(client)
    page = client.get("/staff/login/code/")
    assert page.status_code == 200 and member.username in page.content.decode()

    response = client.post("/staff/login/code/", {"code": code_of(device)})

    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert signed_in_with_both(client)


def test_a_code_typed_with_spaces_is_read_as_its_digits(client, member):
    device = totp_device(member)
    password_step(client, member)
    code = code_of(device)
    client.post("/staff/login/code/", {"code": f" {code[:3]} {code[3:]} "})
    assert signed_in_with_both(client)


def test_a_wrong_password_says_so_and_leads_nowhere(client, member):
    totp_device(member)
    response = password_step(client, member, password="not-it")
    assert response.status_code == 200
    assert "do not match a staff account" in response.content.decode()
    assert client.get("/staff/login/code/")["Location"].startswith("/staff/login/")


def test_a_customer_account_cannot_sign_in_to_the_staff_pages(client):
    buyer = get_user_model().objects.create_user("buyer", password=PASSWORD)
    response = password_step(client, buyer)
    assert (
        response.status_code == 200 and "do not match a staff account" in response.content.decode()
    )


def test_a_code_without_the_password_first_is_sent_back_to_the_password(client, member):
    response = client.post("/staff/login/code/", {"code": code_of(totp_device(member))})
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
    assert not signed_in_with_both(client)


def test_the_password_step_is_good_for_five_minutes(client, member):
    device = totp_device(member)
    password_step(client, member)
    session = client.session
    session[staff_login.PENDING] = {**session[staff_login.PENDING], "until": time.time() - 1}
    session.save()

    response = client.post("/staff/login/code/", {"code": code_of(device)})

    assert response["Location"] == "/staff/login/?expired=1"
    assert not signed_in_with_both(client)


def test_a_code_signs_in_once_even_within_its_thirty_seconds(member):
    device = totp_device(member)
    code = code_of(device)
    first, second = Client(), Client()
    password_step(first, member)
    password_step(second, member)
    first.post("/staff/login/code/", {"code": code})
    assert signed_in_with_both(first)

    second.post("/staff/login/code/", {"code": code})

    assert not signed_in_with_both(second)


def test_signing_out_is_a_post_and_ends_the_session(client, member):
    signed_in(client, member)
    assert client.get("/staff/logout/").status_code == 405
    response = client.post("/staff/logout/")
    assert response.status_code == 302 and response["Location"] == "/staff/login/"
    assert not signed_in_with_both(client)


# ---- wrong codes ----------------------------------------------------------------------------
def test_codes_are_throttled_per_member_whatever_the_address(member, rate, settings):
    rate(staff_otp="3/hour")
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own backoff is tested by django-otp
    device = totp_device(member)
    guesser = Client(REMOTE_ADDR="198.51.100.7")
    password_step(guesser, member)
    for _ in range(3):
        response = guesser.post("/staff/login/code/", {"code": wrong_code(device)})
        assert response.status_code == 200 and "not right" in response.content.decode()

    refused = guesser.post("/staff/login/code/", {"code": code_of(device)})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "Too many sign-in attempts" in refused.content.decode()

    elsewhere = Client(REMOTE_ADDR="203.0.113.9")  # the same member, from another address
    password_step(elsewhere, member)
    assert elsewhere.post("/staff/login/code/", {"code": code_of(device)}).status_code == 429
    assert not signed_in_with_both(elsewhere)


@pytest.mark.django_db(transaction=True)
def test_guesses_sent_all_at_once_are_held_to_the_rate(rate):
    rate(staff_otp="3/hour")
    member = staff_user(roles.MANAGER, factories.cinema())
    device = totp_device(member)
    guessers = [Client(REMOTE_ADDR=f"198.51.100.{n}") for n in range(12)]
    for guesser in guessers:
        password_step(guesser, member)
    guess = wrong_code(device)

    outcomes = run_concurrently(
        [lambda g=g: g.post("/staff/login/code/", {"code": guess}).status_code for g in guessers]
    )

    answers = sorted(o.result for o in outcomes)
    assert answers == [200] * 3 + [429] * 9, [o.error for o in outcomes if o.error]


def test_another_members_codes_are_not_held_up(member, rate):
    rate(staff_otp="1/hour")
    device = totp_device(member)
    guesser = Client()
    password_step(guesser, member)
    guesser.post("/staff/login/code/", {"code": wrong_code(device)})
    colleague = staff_user(roles.BOX_OFFICE, factories.cinema())
    other = Client()
    password_step(other, colleague)
    other.post("/staff/login/code/", {"code": code_of(totp_device(colleague))})
    assert signed_in_with_both(other)


def test_the_password_step_keeps_the_admin_sign_ins_throttle(client, member, rate):
    rate(admin_login_failed="2/hour")
    for _ in range(2):
        assert password_step(client, member, password="guess").status_code == 200
    refused = password_step(client, member)
    assert refused.status_code == 429 and "Too many sign-in attempts" in refused.content.decode()


# ---- enrolment ------------------------------------------------------------------------------
def test_a_member_without_a_phone_set_up_enrols_after_the_password(client, member):
    response = password_step(client, member, next_url="/staff/")
    assert response["Location"] == "/staff/login/enrol/"

    page = client.get("/staff/login/enrol/")
    device = TOTPDevice.objects.get(user=member)
    text = page.content.decode()
    assert page.status_code == 200 and not device.confirmed
    assert "<svg" in text and "<script" not in text and " style=" not in text
    secret = b32encode(device.bin_key).decode()
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in text
    assert client.get("/staff/login/enrol/").content.decode().count(secret[:8]) >= 1
    assert TOTPDevice.objects.filter(user=member).count() == 1  # a reload shows the same key
    assert not signed_in_with_both(client)

    done = client.post("/staff/login/enrol/", {"code": code_of(device)})

    assert done.status_code == 200
    codes = list(StaticToken.objects.filter(device__user=member).values_list("token", flat=True))
    assert len(codes) == 10 and all(code in done.content.decode() for code in codes)
    assert TOTPDevice.objects.get(user=member).confirmed
    assert AuditEntry.objects.filter(action="staff.authenticator_enrolled").count() == 1
    assert signed_in_with_both(client)


def test_a_key_copied_in_an_earlier_sign_in_never_becomes_the_members_second_factor(client, member):
    """Someone who knows a newcomer's password opens the enrolment page and copies its key; the
    member's own sign-in enrols a new key, and the copied one opens nothing."""
    intruder = Client()
    password_step(intruder, member)
    intruder.get("/staff/login/enrol/")
    copied = TOTPDevice.objects.get(user=member)

    password_step(client, member)
    client.get("/staff/login/enrol/")
    mine = TOTPDevice.objects.get(user=member)  # the copied one is gone
    assert mine.pk != copied.pk and mine.key != copied.key
    client.post("/staff/login/enrol/", {"code": code_of(mine)})
    assert signed_in_with_both(client)

    late = intruder.post("/staff/login/enrol/", {"code": code_of(copied)})
    assert late.status_code in (200, 302) and not signed_in_with_both(intruder)
    assert list(TOTPDevice.objects.filter(user=member)) == [mine]


def test_a_wrong_first_code_does_not_set_the_phone_up(client, member):
    password_step(client, member)
    client.get("/staff/login/enrol/")
    device = TOTPDevice.objects.get(user=member)
    response = client.post("/staff/login/enrol/", {"code": wrong_code(device)})
    assert response.status_code == 200 and "not right" in response.content.decode()
    assert not TOTPDevice.objects.get(user=member).confirmed
    assert not StaticDevice.objects.filter(user=member).exists()
    assert not signed_in_with_both(client)


def test_a_member_with_a_phone_set_up_cannot_enrol_another_with_the_password_alone(client, member):
    totp_device(member)
    password_step(client, member)
    assert client.get("/staff/login/enrol/")["Location"] == "/staff/login/code/"
    assert TOTPDevice.objects.filter(user=member).count() == 1


# ---- backup codes ---------------------------------------------------------------------------
def enrolled(client, user) -> list[str]:
    password_step(client, user)
    client.get("/staff/login/enrol/")
    client.post("/staff/login/enrol/", {"code": code_of(TOTPDevice.objects.get(user=user))})
    client.post("/staff/logout/")
    return list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))


def test_a_backup_code_signs_in_once(client, member, settings):
    settings.OTP_STATIC_THROTTLE_FACTOR = 0  # no second's wait after the refused reuse below
    first, second, *_ = enrolled(client, member)

    password_step(client, member)
    used = client.post("/staff/login/code/", {"code": first})
    assert used.status_code == 200 and "You have 9 left" in used.content.decode()
    assert signed_in_with_both(client)
    client.post("/staff/logout/")

    password_step(client, member)
    again = client.post("/staff/login/code/", {"code": first})
    assert again.status_code == 200 and "not right" in again.content.decode()
    assert not signed_in_with_both(client)
    client.post("/staff/login/code/", {"code": second})
    assert signed_in_with_both(client)


# ---- where to go next -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/staff/", "https:evil.example", "/\\evil.example"],
)
def test_next_pointing_to_another_site_is_ignored(client, member, target):
    device = totp_device(member)
    password_step(client, member, next_url=target)
    response = client.post("/staff/login/code/", {"code": code_of(device)})
    assert response.status_code == 302 and response["Location"] == "/staff/"


def test_next_on_this_site_is_followed(client, member):
    device = totp_device(member)
    assert client.get("/staff/")["Location"] == "/staff/login/?next=%2Fstaff%2F"
    password_step(client, member, next_url="/staff/?tab=today")
    response = client.post("/staff/login/code/", {"code": code_of(device)})
    assert response["Location"] == "/staff/?tab=today"


# ---- the admin ------------------------------------------------------------------------------
def test_the_admin_refuses_a_password_only_session(client):
    boss = get_user_model().objects.create_superuser("boss", "boss@example.com", PASSWORD)
    client.force_login(boss)  # a password, no second factor

    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert client.get(response["Location"])["Location"] == "/staff/login/?next=%2Fadmin%2F"

    signed_in(client, boss)
    assert client.get("/admin/").status_code == 200


def test_a_superuser_reaches_the_admin_through_both_steps(client):
    boss = get_user_model().objects.create_superuser("boss", "boss@example.com", PASSWORD)
    device = totp_device(boss)
    response = client.post(
        "/admin/login/", {"username": "boss", "password": PASSWORD, "next": "/admin/"}
    )
    assert response["Location"] == "/staff/login/code/"
    response = client.post("/staff/login/code/", {"code": code_of(device)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


# ---- development without the second factor --------------------------------------------------
def test_with_the_second_factor_off_the_password_signs_in(client, member, settings):
    settings.MARQUEE_STAFF_OTP = False
    response = password_step(client, member, next_url="/staff/")
    assert response["Location"] == "/staff/"
    assert signed_in_with_both(client)
    assert not TOTPDevice.objects.filter(user=member).exists()
