"""Seats set aside for a partner (issue 10, invariant 9): only that partner holds or sells them
until the release time; then they return to general sale by themselves, worker or not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from tests.concurrency import run_many, unexpected, winners
from ticketing import errors
from ticketing.flows.sweep import sweep
from ticketing.inventory import seatmap
from ticketing.inventory.allocations import allocation_create, allocations_of
from ticketing.inventory.holds import hold_create, hold_release
from ticketing.inventory.models import Allocation, SeatClaim


def set_aside(screening, partner, *labels, minutes: int = 60):
    return allocation_create(
        screening_id=screening.pk,
        partner=partner,
        seat_ids=factories.seats(screening.auditorium, *labels),
        release_at=timezone.now() + timedelta(minutes=minutes),
    )


def release_now(allocation) -> None:
    past = timezone.now() - timedelta(seconds=1)
    Allocation.objects.filter(pk=allocation.pk).update(release_at=past)
    SeatClaim.objects.filter(allocation=allocation).update(allocated_until=past)
    SeatClaim.objects.filter(allocation=allocation, hold=None, order=None).update(expires_at=past)


@pytest.fixture
def platform(db):
    return factories.partner_with_key("Platform")[0]


@pytest.fixture
def rival(db):
    return factories.partner_with_key("Rival")[0]


@pytest.mark.django_db
def test_only_the_partner_holds_its_seats_set_aside(screening, platform, rival):
    set_aside(screening, platform, "C1", "C2")
    [c1] = factories.seats(screening.auditorium, "C1")

    with pytest.raises(errors.SeatUnavailable):
        hold_create(screening_id=screening.pk, seat_ids=[c1], buyer_key="web")
    with pytest.raises(errors.SeatUnavailable):
        hold_create(screening_id=screening.pk, seat_ids=[c1], partner=rival)
    hold = hold_create(screening_id=screening.pk, seat_ids=[c1], partner=platform)

    claim = SeatClaim.objects.get(seat_id=c1)
    assert claim.hold_id == hold.pk and claim.allocated_to_id == platform.pk


@pytest.mark.django_db
def test_the_seat_map_shows_them_taken_and_best_available_avoids_them(screening, platform):
    set_aside(screening, platform, "A1", "A2")
    statuses = {s["label"]: s["status"] for s in seatmap.build(screening)["seats"]}
    assert statuses["A1"] == statuses["A2"] == "held"
    assert seatmap.set_aside_for(screening.pk, platform.pk) == set(
        factories.seats(screening.auditorium, "A1", "A2")
    )


@pytest.mark.django_db
def test_a_partners_released_hold_gives_the_seat_back_to_its_allocation(screening, platform, rival):
    set_aside(screening, platform, "D1")
    [d1] = factories.seats(screening.auditorium, "D1")
    hold = hold_create(screening_id=screening.pk, seat_ids=[d1], partner=platform)
    hold_release(hold=hold)

    with pytest.raises(errors.SeatUnavailable):
        hold_create(screening_id=screening.pk, seat_ids=[d1], partner=rival)
    hold_create(screening_id=screening.pk, seat_ids=[d1], partner=platform)


@pytest.mark.django_db
def test_a_partners_hold_that_dies_leaves_the_seat_with_the_allocation_even_after_a_sweep(
    screening, platform
):
    set_aside(screening, platform, "D2")
    [d2] = factories.seats(screening.auditorium, "D2")
    hold = hold_create(screening_id=screening.pk, seat_ids=[d2], partner=platform)
    SeatClaim.objects.filter(hold=hold).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(errors.SeatUnavailable):
        hold_create(screening_id=screening.pk, seat_ids=[d2], buyer_key="web")
    sweep()
    assert SeatClaim.objects.get(seat_id=d2).allocated_to_id == platform.pk
    with pytest.raises(errors.SeatUnavailable):
        hold_create(screening_id=screening.pk, seat_ids=[d2], buyer_key="web")


@pytest.mark.django_db
def test_after_the_release_time_the_seats_are_on_general_sale_without_a_worker(screening, platform):
    allocation = set_aside(screening, platform, "E1", "E2")
    release_now(allocation)

    hold = hold_create(
        screening_id=screening.pk,
        seat_ids=factories.seats(screening.auditorium, "E1", "E2"),
        buyer_key="web",
    )
    assert SeatClaim.objects.filter(hold=hold, allocated_to__isnull=True).count() == 2


@pytest.mark.django_db
def test_the_partner_sees_what_is_left_held_and_sold(screening, platform):
    set_aside(screening, platform, "E5", "E6", "E7")
    [e5] = factories.seats(screening.auditorium, "E5")
    hold_create(screening_id=screening.pk, seat_ids=[e5], partner=platform)
    [state] = allocations_of(partner=platform)
    assert (state.left, state.held, state.sold, state.released) == (2, 1, 0, False)


@pytest.mark.django_db
def test_seats_already_taken_cannot_be_set_aside(screening, platform):
    factories.hold(screening, "B9", session="someone")
    with pytest.raises(errors.SeatUnavailable):
        set_aside(screening, platform, "B9", "B10")
    assert not Allocation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_partner_and_the_public_racing_for_released_seats_never_share_one(screening, platform):
    allocation = set_aside(screening, platform, "C9")
    release_now(allocation)
    [c9] = factories.seats(screening.auditorium, "C9")

    def buyer(i):
        if i % 2:
            return hold_create(screening_id=screening.pk, seat_ids=[c9], partner=platform)
        return hold_create(screening_id=screening.pk, seat_ids=[c9], buyer_key=f"web-{i}")

    outcomes = run_many(8, buyer)

    assert unexpected(outcomes, errors.SeatUnavailable) == []
    assert len(winners(outcomes)) == 1
    assert SeatClaim.objects.filter(seat_id=c9).count() == 1


@pytest.mark.django_db(transaction=True)
def test_buyers_racing_for_seats_set_aside_only_the_partner_gets_them(screening, platform, rival):
    set_aside(screening, platform, "C10")
    [c10] = factories.seats(screening.auditorium, "C10")

    def buyer(i):
        if i == 3:
            return hold_create(screening_id=screening.pk, seat_ids=[c10], partner=platform)
        if i % 2:
            return hold_create(screening_id=screening.pk, seat_ids=[c10], partner=rival)
        return hold_create(screening_id=screening.pk, seat_ids=[c10], buyer_key=f"web-{i}")

    outcomes = run_many(8, buyer)

    [winner] = winners(outcomes)
    assert winner.partner_id == platform.pk
    assert SeatClaim.objects.get(seat_id=c10).hold_id == winner.pk


@pytest.mark.django_db
def test_the_api_lists_a_partners_own_allocations_only(api, screening, rival):
    set_aside(screening, api.partner, "A7", "A8")
    set_aside(screening, rival, "A9")

    answer = api.get("/api/v1/allocations/")

    assert answer.status_code == 200
    [mine] = answer.json()["results"]
    assert (mine["screening"], mine["left"], mine["sold"]) == (screening.pk, 2, 0)
    assert mine["seats"] == sorted(factories.seats(screening.auditorium, "A7", "A8"))


@pytest.mark.django_db
def test_staff_set_seats_aside_from_the_admin_by_label_or_best_n(admin_client, screening, platform):
    release = (timezone.now() + timedelta(hours=3)).astimezone(timezone.get_current_timezone())
    form = {
        "screening": screening.pk,
        "partner": platform.pk,
        "release_at_0": release.strftime("%Y-%m-%d"),
        "release_at_1": release.strftime("%H:%M:%S"),
    }
    by_label = admin_client.post(
        "/admin/inventory/allocation/add/", {**form, "labels": "b1, B2", "quantity": ""}
    )
    best = admin_client.post("/admin/inventory/allocation/add/", {**form, "quantity": "4"})
    taken = admin_client.post(
        "/admin/inventory/allocation/add/", {**form, "labels": "B1", "quantity": ""}
    )

    assert by_label.status_code == best.status_code == taken.status_code == 302
    assert [len(a.seat_ids) for a in Allocation.objects.order_by("pk")] == [2, 4]
    assert SeatClaim.objects.filter(allocated_to=platform).count() == 6
