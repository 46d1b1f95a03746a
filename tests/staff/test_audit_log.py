"""The audit log: searchable, newest first, paged, only the member's cinemas; prices changed in
the admin are recorded with who, what, before and after."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests import factories
from tests.staff.support import signed_in, staff_user
from ticketing.audit.models import AuditEntry
from ticketing.audit.services import audit_record
from ticketing.screenings import services as screening_services
from ticketing.screenings.models import ScreeningPrice, SeatTypeSurcharge, TicketType
from ticketing.staff import audit_log, exports, orders, roles

pytestmark = pytest.mark.django_db


def entry(summary, *, cinema=None, action="price.changed", user=None, at=None, changes=None):
    made = audit_record(
        action=action,
        summary=summary,
        user=user,
        cinema_id=cinema.pk if cinema else None,
        changes=changes,
    )
    if at is not None:  # the log's own clock, set for the test
        AuditEntry.objects.filter(pk=made.pk).update(at=at)
    return made


def page_of(client, **query):
    response = client.get("/staff/audit/", query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def mine():
    return factories.cinema(name="Rex Paris", time_zone="Europe/Paris")


@pytest.fixture
def theirs():
    return factories.cinema(name="Odeon Leeds", time_zone="Europe/London")


def test_a_member_reads_their_cinemas_entries_only_and_no_chain_wide_ones(client, mine, theirs):
    entry("Adult at Rex: 12 → 13", cinema=mine)
    entry("Adult at Odeon: 9 → 10", cinema=theirs)
    entry("Head office changed a role", cinema=None, action="staff.cinemas_set")
    signed_in(client, staff_user(roles.MANAGER, mine))

    page = page_of(client)

    assert "Adult at Rex" in page
    assert "Adult at Odeon" not in page and "Head office changed" not in page
    assert "Adult at Odeon" not in page_of(client, cinema=theirs.pk)


def test_head_office_reads_every_cinema_and_the_chain_wide_entries(client, mine, theirs):
    entry("Adult at Rex", cinema=mine)
    entry("Adult at Odeon", cinema=theirs)
    entry("Head office changed a role", cinema=None, action="staff.cinemas_set")
    signed_in(client, staff_user(roles.MANAGER, all_cinemas=True))

    page = page_of(client)
    assert "Adult at Rex" in page and "Adult at Odeon" in page and "Head office changed" in page
    chain_only = page_of(client, cinema="chain")
    assert "Head office changed" in chain_only and "Adult at Rex" not in chain_only


def test_the_log_is_searched_by_text_action_who_and_days_in_the_cinemas_zone(client, mine):
    alice = staff_user(roles.MANAGER, mine, username="alice")
    bob = staff_user(roles.MANAGER, mine, username="bob")
    # 23:30 UTC on 1 December is already 2 December in Paris
    entry(
        "Adult price raised", cinema=mine, user=alice, at=datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    )
    entry(
        "Child price lowered", cinema=mine, user=bob, at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    )
    entry("MQ-ABC123 refunded", cinema=mine, user=bob, action="order.refunded",
          at=datetime(2026, 11, 25, 10, 0, tzinfo=UTC))  # fmt: skip
    signed_in(client, alice)

    def found(**query):
        page = page_of(client, **query)
        return [s for s in ("Adult price", "Child price", "MQ-ABC123") if s in page]

    assert found(q="price") == ["Adult price", "Child price"]
    assert found(q="mq-abc123") == ["MQ-ABC123"]
    assert found(action="order.refunded") == ["MQ-ABC123"]
    assert found(who="bob") == ["Child price", "MQ-ABC123"]
    AuditEntry.objects.filter(action="order.refunded").update(actor_name="")  # only user:ID
    assert found(who="bob") == ["Child price", "MQ-ABC123"]
    assert found(**{"from": "2026-12-02", "to": "2026-12-02"}) == ["Adult price"]
    assert found(**{"from": "2026-11-21", "to": "2026-12-01"}) == ["MQ-ABC123"]


def test_entries_are_newest_first_fifty_a_page(client, mine):
    base = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    for n in range(60):
        entry(f"change number {n:02d}.", cinema=mine, at=base.replace(minute=n))
    signed_in(client, staff_user(roles.MANAGER, mine))

    first = page_of(client)
    assert "60 entries" in first and "Page 1 of 2" in first
    assert first.index("change number 59.") < first.index("change number 10.")
    assert "change number 09." not in first
    second = page_of(client, page=2)
    assert "change number 09." in second and "change number 00." in second
    assert "change number 10." not in second


def test_an_entry_shows_when_in_its_cinemas_zone_who_and_before_and_after(client, mine):
    manager = staff_user(roles.MANAGER, mine, username="claire")
    entry(
        "Adult at Rex",
        cinema=mine,
        user=manager,
        at=datetime(2026, 7, 14, 18, 5, tzinfo=UTC),
        changes={"price": ["12.00 EUR", "13.50 EUR"]},
    )
    signed_in(client, manager)

    page = page_of(client)

    assert "14 Jul 2026, 20:05:00" in page  # Paris in summer: UTC+2
    assert "claire" in page
    assert '<td class="before">12.00 EUR</td><td class="after">13.50 EUR</td>' in page


def test_the_box_office_cannot_read_the_audit_log(client, mine):
    signed_in(client, staff_user(roles.BOX_OFFICE, mine))
    assert client.get("/staff/audit/").status_code == 403


def test_bad_dates_are_refused_in_words(client, mine):
    signed_in(client, staff_user(roles.MANAGER, mine))
    assert client.get("/staff/audit/", {"from": "yesterday"}).status_code == 400
    assert client.get("/staff/audit/", {"cinema": "x"}).status_code == 400


# ---- prices ---------------------------------------------------------------------------------
def test_a_ticket_type_price_changed_in_the_admin_is_audited_with_before_and_after(client, mine):
    manager = staff_user(roles.MANAGER, mine)
    signed_in(client, manager)
    adult = TicketType.objects.get(cinema=mine, code="adult")

    response = client.post(
        f"/admin/screenings/tickettype/{adult.pk}/change/",
        {
            "cinema": mine.pk,
            "code": "adult",
            "name": "Adult",
            "price": "1350",
            "sort_order": "1",
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    adult.refresh_from_db()
    assert adult.price == 1350
    logged = AuditEntry.objects.get(action="price.changed")
    assert logged.actor == f"user:{manager.pk}" and logged.actor_name == manager.username
    assert logged.cinema_id == mine.pk
    assert (logged.object_type, logged.object_id) == ("screenings.tickettype", str(adult.pk))
    assert logged.changes == {"price": ["12.00 EUR", "13.50 EUR"]}
    assert "Adult" in logged.summary and "12.00 EUR → 13.50 EUR" in logged.summary
    assert "13.50 EUR" in page_of(client)


def test_a_screening_price_added_changed_and_deleted_is_audited_each_time(mine):
    manager = staff_user(roles.MANAGER, mine)
    screening = factories.screening(factories.auditorium(mine, rows=1, per_row=2))
    adult = TicketType.objects.get(cinema=mine, code="adult")

    price = screening_services.price_save(
        price=ScreeningPrice(screening=screening, ticket_type=adult, price=900), user=manager
    )
    price.price = 1000
    screening_services.price_save(price=price, user=manager)
    screening_services.price_save(price=price, user=manager)  # nothing changed: nothing logged
    screening_services.price_delete(price=price, user=manager)

    log = list(AuditEntry.objects.order_by("id").values_list("action", "changes"))
    assert log == [
        ("price.added", {"ticket_type": [None, "Adult (adult)"], "price": [None, "9.00 EUR"]}),
        ("price.changed", {"price": ["9.00 EUR", "10.00 EUR"]}),
        ("price.deleted", {"ticket_type": ["Adult (adult)", None], "price": ["10.00 EUR", None]}),
    ]
    assert {e.cinema_id for e in AuditEntry.objects.all()} == {mine.pk}


def test_a_surcharge_change_is_audited(mine):
    surcharge = SeatTypeSurcharge.objects.get(cinema=mine, seat_type="premium")
    surcharge.amount = 450
    screening_services.price_save(price=surcharge, user=None)
    logged = AuditEntry.objects.get()
    assert logged.changes == {"amount": ["3.00 EUR", "4.50 EUR"]}
    assert logged.actor == "system" and "Premium seat surcharge" in logged.summary


def _form_data(response) -> dict:
    """The admin change form's fields as the browser would send them back, untouched."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        forms.extend(formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value
    return data


def test_prices_changed_in_the_cinemas_inlines_are_audited(client, mine, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", password="pw-for-tests-only")
    signed_in(client, boss)
    url = f"/admin/screenings/cinema/{mine.pk}/change/"
    data = _form_data(client.get(url))
    adult = next(k for k, v in data.items() if k.endswith("-code") and v == "adult")
    data[adult.replace("-code", "-price")] = "1300"
    premium = next(k for k, v in data.items() if k.endswith("-seat_type") and v == "premium")
    data[premium.replace("-seat_type", "-amount")] = "450"

    response = client.post(url, data)

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    changes = dict(AuditEntry.objects.values_list("object_type", "changes"))
    assert changes == {
        "screenings.tickettype": {"price": ["12.00 EUR", "13.00 EUR"]},
        "screenings.seattypesurcharge": {"amount": ["3.00 EUR", "4.50 EUR"]},
    }
    assert set(AuditEntry.objects.values_list("actor_name", flat=True)) == {"boss"}


def test_every_page_here_is_a_staff_page_with_its_permission():
    wanted = {
        "orders": "staff.look_up_orders",
        "order": "staff.look_up_orders",
        "order_resend": "staff.resend_confirmation",
        "order_refund": "staff.refund_orders",
        "exports": "staff.export_data",
        "export_screening": "staff.export_data",
        "export_day": "staff.export_data",
        "audit": "staff.view_audit",
    }
    patterns = [*orders.urlpatterns, *exports.urlpatterns, *audit_log.urlpatterns]
    assert {p.name: p.callback.staff_permission for p in patterns} == wanted
