"""The schedule planner in Chromium: a manager plans a pattern, the preview names the clash with
a screening already there, the pattern is changed and previewed again, and saved; the week then
shows the new screenings. The screenshot docs/screenshots/staff-schedule.png is the preview with
its clash."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.staff.support import signed_in, staff_user
from ticketing.audit.models import AuditEntry
from ticketing.screenings import scheduling
from ticketing.screenings.models import Screening
from ticketing.staff import roles

from .support import assert_accessible, screenshot


def sign_in(page, user, base_url: str) -> None:
    """The browser carries the session of `user`, both factors passed (tests/staff/support.py)."""
    client = signed_in(Client(), user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": value, "url": base_url}]
    )


def test_a_manager_plans_a_week_sees_the_clash_and_saves_the_fixed_pattern(page, site):
    cinema = factories.cinema(name="Le Grand Rex", time_zone="Europe/Paris")
    room = factories.auditorium(cinema, rows=4, per_row=8, name="Salle 1")
    factories.auditorium(cinema, rows=4, per_row=8, name="Salle 2")
    film = factories.film(title="The Long Crossing", runtime_minutes=120)
    monday = scheduling.week_start(scheduling.local_today(cinema)) + timedelta(days=7)
    wednesday = monday + timedelta(days=2)
    there = Screening.objects.create(
        film=factories.film(title="Hollow Tide", runtime_minutes=100),
        auditorium=room,
        starts_at=datetime.combine(wednesday, time(19, 0), tzinfo=cinema.tz),
    )
    sign_in(page, staff_user(roles.MANAGER, cinema), site)

    page.goto(f"/staff/schedule/?week={monday.isoformat()}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Schedule · Le Grand Rex")
    expect(page.locator(f'.block[data-screening="{there.pk}"]')).to_contain_text("Hollow Tide")
    assert_accessible(page, "the schedule's week")

    page.get_by_label("Film").select_option(label="The Long Crossing")
    page.get_by_label("Auditorium").select_option(label="Salle 1")
    page.get_by_role("button", name="Weekdays").click()  # a preset the page's script adds
    page.get_by_label("Start times").fill("14:00, 20:00")
    page.get_by_role("button", name="Preview", exact=True).click()

    preview = page.locator("#plan-preview")
    expect(preview.get_by_role("heading")).to_have_text("Preview: 10 screenings, 1 cannot be made")
    clash = preview.locator("tr.clash")
    expect(clash).to_have_count(1)
    expect(clash).to_contain_text("20:00")
    expect(clash).to_contain_text(
        f"Hollow Tide, {wednesday:%a} {wednesday.day} {wednesday:%b} 19:00-20:55, Salle 1 (scheduled)"
    )
    expect(preview.get_by_role("button", name="Save")).to_have_count(0)
    assert not Screening.objects.filter(film=film).exists()
    assert_accessible(page, "the preview with a clash")
    preview.scroll_into_view_if_needed()
    screenshot(page, "staff-schedule", full_page=True)

    page.get_by_label("Start times").fill("14:00, 21:30")
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(preview.get_by_role("heading")).to_have_text("Preview: 10 screenings")
    expect(preview.locator("tr.clash")).to_have_count(0)

    # Changing the pattern after a preview puts its Save out of reach until previewed again.
    page.get_by_label("Start times").fill("14:00, 21:45")
    expect(preview.get_by_role("button", name="Save 10 screenings")).to_be_disabled()
    page.get_by_label("Start times").fill("14:00, 21:30")
    page.get_by_role("button", name="Preview", exact=True).click()
    page.get_by_role("button", name="Save 10 screenings").click()

    expect(page.get_by_role("status")).to_contain_text(
        "10 screening(s) of The Long Crossing saved in Salle 1."
    )
    expect(page.locator(".block", has_text="The Long Crossing")).to_have_count(10)
    made = Screening.objects.filter(film=film)
    assert made.count() == 10
    assert {s.starts_at.astimezone(cinema.tz).strftime("%H:%M") for s in made} == {
        "14:00",
        "21:30",
    }
    assert AuditEntry.objects.filter(action="screening.scheduled").count() == 10
    assert all(s.starts_at > timezone.now() for s in made)
