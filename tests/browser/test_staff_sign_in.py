"""Signing staff in, in Chromium: a newcomer on a phone sets up their authenticator from the QR
code page and gets their backup codes; a member signs in with the password and the code their
phone shows. Each page passes axe; screenshot docs/screenshots/staff-sign-in-enrol.png."""

from __future__ import annotations

from base64 import b32decode

from playwright.sync_api import expect

from tests import factories
from tests.staff.codes import code_of, current_code
from tests.staff.support import staff_user, totp_device
from ticketing.staff import roles

from .support import assert_accessible, screenshot

PASSWORD = "pw-for-tests-only"  # tests/staff/support.py's


def test_a_newcomer_sets_up_their_phone_on_a_phone(phone_page, site):
    member = staff_user(roles.BOX_OFFICE, factories.cinema(name="Le Grand Rex"), username="ines")
    page = phone_page

    page.goto("/staff/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(page, "the sign-in")
    page.get_by_label("Username").fill(member.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Set up your authenticator")).to_be_visible()
    expect(page.locator(".otp-qr svg")).to_be_visible()
    assert_accessible(page, "setting up the authenticator")
    screenshot(page, "staff-sign-in-enrol", full_page=True)
    secret = page.locator(".otp-secret code").inner_text().replace(" ", "")
    page.get_by_label("The code the app shows now").fill(current_code(b32decode(secret).hex()))
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Your backup codes")).to_be_visible()
    expect(page.locator(".otp-backup-codes li")).to_have_count(10)
    assert_accessible(page, "the backup codes")
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", name="Staff")).to_be_visible()


def test_a_member_signs_in_with_the_code_their_phone_shows(page, site):
    member = staff_user(roles.MANAGER, factories.cinema(), username="claire")
    device = totp_device(member)

    page.goto("/staff/")
    page.get_by_label("Username").fill(member.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Your code")).to_be_visible()
    page.get_by_label("Code").fill("000000" if code_of(device) != "000000" else "111111")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    assert_accessible(page, "a refused code")

    page.wait_for_timeout(1100)  # django-otp's own backoff after a wrong code: one second
    page.get_by_label("Code").fill(code_of(device))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert page.url.endswith("/staff/") or "/staff/" in page.url
