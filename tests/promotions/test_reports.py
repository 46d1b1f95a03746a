"""Reports (issue 10): what a campaign's codes sold, for staff (a page) and for its studio or
platform (the API, JSON and CSV), and a partner's own sales and settlement. The numbers are
checked against orders made, paid and refunded through the services; only paid orders'
standing tickets count; days are each cinema's own; another partner gets 404; the number of
queries does not grow with the orders."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from payments import services as payments
from payments.refunds import refund_create
from promotions import reports
from promotions.codes import code_create
from promotions.models import Redemption
from tests import factories
from tests.api.support import assert_error
from tests.payments import flow
from tests.promotions.report_support import (
    buyer_email,
    campaign_world,
    client_for,
    paid,
    paid_on,
    sold,
)
from tests.promotions.support import place
from ticketing.flows.checkout import hold_place, order_place
from ticketing.orders.models import PaidVia
from ticketing.partners.models import PartnerKind
from ticketing.partners.services import partner_create
from ticketing.screenings.models import Screening

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(screening):
    return campaign_world(screening)


# ---- the campaign report -------------------------------------------------------------------
def test_a_campaign_report_counts_the_paid_tickets_its_codes_brought(world):
    paris, lyon = world["paris"], world["lyon"]
    sold(paris, "A1", "A2")
    sold(lyon, "A1")
    place(paris, "B1", promo="MI5", email="unpaid@x.org")  # awaiting payment: no sale yet
    paid(factories.pending_order(paris, "C1"))  # no code: not the campaign's

    report = reports.campaign_report(campaign=world["campaign"])

    totals = report.totals
    assert (totals.orders, totals.tickets) == (2, 3)
    assert (totals.gross, totals.discount, totals.net) == (3 * 1200, 3 * 600, 3 * 600)
    assert totals.by_funder == {"studio": 1800, "platform": 0, "cinema": 0}
    world["campaign"].refresh_from_db()
    # The budget left is the campaign's: the unpaid order's discount is still set aside.
    assert world["campaign"].budget_left == 50_000 - 4 * 600
    by_city = {line.key: line.figures.tickets for line in report.by_city}
    assert by_city == {"Paris": 2, "Lyon": 1}
    by_cinema = {line.label: (line.city, line.figures.gross) for line in report.by_cinema}
    assert by_cinema == {
        paris.auditorium.cinema.name: ("Paris", 2400),
        "Lyon Part-Dieu": ("Lyon", 1200),
    }
    assert [(line.label, line.figures.tickets) for line in report.by_film] == [
        (paris.film.title, 3)
    ]
    today = timezone.localtime(timezone.now(), paris.auditorium.cinema.tz).date()
    assert [(line.key, line.figures.orders) for line in report.by_day] == [(today, 2)]


def test_a_refunded_ticket_and_its_discount_no_longer_count(world):
    paris = world["paris"]
    order = place(paris, "A1", "A2", "A3", promo="MI5", email="refund@x.org")
    payment = payments.payment_start(
        order_id=order.pk, provider_name="sandbox", return_url="http://testserver/", actor="t"
    )
    assert flow.receive(flow.event(payment)).status == 200
    first = order.tickets.order_by("seat_label").first()

    refund_create(order_id=order.pk, ticket_ids=[first.pk], actor="user:1", reason="broken seat")

    report = reports.campaign_report(campaign=world["campaign"])
    assert (report.totals.tickets, report.totals.gross) == (2, 2400)
    assert report.totals.discount == 1200 == Redemption.objects.get(order=order).discount
    world["campaign"].refresh_from_db()
    assert world["campaign"].spent == 1200


def test_a_sale_counts_on_its_day_in_its_cinemas_zone(world):
    paris, lyon = world["paris"], world["lyon"]
    tokyo = lyon.auditorium.cinema
    tokyo.time_zone = "Asia/Tokyo"
    tokyo.save(update_fields=["time_zone"])
    late = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)  # 23:30 in Paris, 07:30 next day in Tokyo
    paid_on(sold(paris, "A1"), late)
    paid_on(sold(lyon, "A1"), late)
    paid_on(sold(lyon, "A2"), late - timedelta(hours=14))  # 17:30 in Tokyo, on the 1st

    report = reports.campaign_report(campaign=world["campaign"])

    by_day = {line.key: line.figures.tickets for line in report.by_day}
    assert by_day == {date(2026, 3, 1): 2, date(2026, 3, 2): 1}


def test_the_presale_pace_is_cumulative_tickets_a_day_until_general_sale(world):
    paris = world["paris"]
    made = world["campaign"]
    now = timezone.now()
    general_sale = now + timedelta(days=2)
    Screening.objects.filter(pk=paris.pk).update(
        sales_open_at=general_sale,
        starts_at=now + timedelta(days=5),
        ends_at=now + timedelta(days=5, hours=2),
    )
    made.presale_opens_at = now - timedelta(days=4)
    made.save(update_fields=["presale_opens_at"])
    code_create(campaign=made, code="EARLY", kind="percent", value=10, opens_presale=True)

    def presale_order(label, partner=None):
        """Held and ordered in the presale: with the presale code, or by the platform's key."""
        buyer = "" if partner else f"pre-{label}"
        promo = "" if partner else "EARLY"
        seats = factories.seats(paris.auditorium, label)
        hold = hold_place(
            screening_id=paris.pk,
            seat_ids=seats,
            promo_code=promo,
            partner=partner,
            buyer_key=buyer,
        )
        return paid(
            order_place(
                hold_id=hold.pk,
                customer_email=f"{label}@x.org",
                customer_name="Early",
                tickets=[(seats[0], "adult")],
                promo_code=promo,
                partner=partner,
                buyer_key=buyer,
                actor="test",
            )
        )

    tz = paris.auditorium.cinema.tz
    paid_on(presale_order("A1"), now - timedelta(days=3))
    paid_on(presale_order("A2"), now - timedelta(days=3))
    paid_on(presale_order("A3", partner=made.platform), now - timedelta(days=1))
    stranger = presale_order("A4")  # a plain code's order placed after general sale opened
    paid_on(stranger, general_sale + timedelta(hours=1))

    pace = reports.campaign_report(campaign=made).presale

    day = timezone.localtime(now - timedelta(days=3), tz).date()
    assert [(p.day, p.tickets, p.cumulative) for p in pace.pace] == [
        (day, 2, 2),
        (day + timedelta(days=1), 0, 2),  # a day without a sale keeps the pace flat
        (day + timedelta(days=2), 1, 3),
    ]
    assert pace.opens_at == made.presale_opens_at and pace.general_sale_at == general_sale


# ---- the campaign report over the API --------------------------------------------------------
def report_path(made) -> str:
    return f"/api/v1/campaigns/{made.pk}/report/"


def test_the_studio_and_the_platform_read_the_report_as_json(world):
    sold(world["paris"], "A1", "A2")
    made = world["campaign"]

    for partner in (made.studio, made.platform):
        answer = client_for(partner).get(report_path(made))
        assert answer.status_code == 200, answer.content
        body = answer.json()
        assert body["campaign"]["id"] == made.pk and body["campaign"]["currency"] == "EUR"
        assert body["totals"] == {
            "orders": 1,
            "tickets": 2,
            "gross": 2400,
            "discount": 1200,
            "net": 1200,
            "discount_by_funder": {"studio": 1200, "platform": 0, "cinema": 0},
        }
        assert body["campaign"]["budget_left"] == 50_000 - 1200
        assert [row["city"] for row in body["by_city"]] == ["Paris"]
        assert body["by_film"][0]["title"] == world["paris"].film.title
        assert body["presale"] == {"opens_at": None, "general_sale_at": None, "pace": []}


def test_another_partner_gets_404_and_a_key_without_the_scope_403(world):
    made = world["campaign"]
    rival = client_for(PartnerKind.STUDIO)
    assert_error(rival.get(report_path(made)), 404, "campaign_not_found")
    assert_error(rival.get(report_path(made), HTTP_ACCEPT="text/csv"), 404, "campaign_not_found")
    assert_error(rival.get("/api/v1/campaigns/999999/report/"), 404, "campaign_not_found")
    unscoped = client_for(made.studio, scopes=("read", "campaigns"))
    details = assert_error(unscoped.get(report_path(made)), 403, "scope_required")
    assert details == {"scope": "reports"}


def test_the_report_as_csv_has_a_row_per_total_day_film_cinema_and_city(world):
    sold(world["paris"], "A1", "A2")
    sold(world["lyon"], "A1")
    studio = client_for(world["campaign"].studio)

    for answer in (
        studio.get(report_path(world["campaign"]), HTTP_ACCEPT="text/csv"),
        studio.get(report_path(world["campaign"]) + "?format=csv"),
    ):
        assert answer.status_code == 200
        assert answer["Content-Type"].startswith("text/csv")
        name = f"campaign-{world['campaign'].pk}-report.csv"
        assert answer["Content-Disposition"] == f'attachment; filename="{name}"'
        rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
        assert list(rows[0]) == [
            "section", "key", "label", "city", "orders", "tickets", "gross", "discount", "net",
            "discount_studio", "discount_platform", "discount_cinema", "cumulative",
        ]  # fmt: skip
        sections = [row["section"] for row in rows]
        assert sections == ["total", "day", "film", "cinema", "cinema", "city", "city"]
        assert (rows[0]["tickets"], rows[0]["gross"], rows[0]["discount_studio"]) == (
            "3",
            "3600",
            "1800",
        )


def test_a_label_that_looks_like_a_formula_is_written_as_text(world):
    film = world["paris"].film
    film.title = "=HYPERLINK(1)"
    film.save(update_fields=["title"])
    sold(world["paris"], "A1")
    answer = client_for(world["campaign"].studio).get(
        report_path(world["campaign"]) + "?format=csv"
    )
    film_row = next(
        r for r in csv.DictReader(io.StringIO(answer.content.decode())) if r["section"] == "film"
    )
    assert film_row["label"] == "'=HYPERLINK(1)"


def test_the_reports_queries_do_not_grow_with_the_orders(world):
    made = world["campaign"]
    made.presale_opens_at = timezone.now() - timedelta(days=10)  # its queries run too
    made.save(update_fields=["presale_opens_at"])
    studio = client_for(made.studio)
    sold(world["paris"], "A1")
    studio.get(report_path(world["campaign"]))  # the key is checked and remembered

    def queries() -> int:
        with CaptureQueriesContext(connection) as counted:
            assert studio.get(report_path(world["campaign"])).status_code == 200
        return len(counted)

    few = queries()
    for n, label in enumerate(["B1", "B2", "B3", "C1", "C2"], start=1):
        paid_on(
            sold(world["paris"] if n % 2 else world["lyon"], label),
            timezone.now() - timedelta(days=n),
        )
    # The campaign (for this partner), the breakdown, the presale's pace and its general sale.
    assert queries() == few == 4


# ---- a partner's sales and settlement ---------------------------------------------------------
@pytest.fixture
def seller(world):
    """The campaign's platform, with a 10% commission, selling through its key."""
    platform = world["campaign"].platform
    platform.commission_bps = 1000
    platform.save(update_fields=["commission_bps"])
    return client_for(platform)


def partner_order(screening, partner, *labels, promo=""):
    hold = hold_place(
        screening_id=screening.pk,
        seat_ids=factories.seats(screening.auditorium, *labels),
        partner=partner,
    )
    return order_place(
        hold_id=hold.pk,
        customer_email=buyer_email(),
        customer_name="Buyer",
        tickets=[(s, "adult") for s in factories.seats(screening.auditorium, *labels)],
        partner=partner,
        promo_code=promo,
        actor="test",
    )


def settled(order, partner):
    return payments.order_settle(
        order_id=order.pk, partner=partner, partner_reference=f"ref-{order.code}", actor="test"
    )


def test_a_partners_sales_and_settlement_count_its_own_paid_orders(world, seller):
    partner = seller.partner
    paris, lyon = world["paris"], world["lyon"]
    one = settled(partner_order(paris, partner, "A1", "A2", promo="MI5"), partner)
    two = settled(partner_order(lyon, partner, "A1"), partner)
    three = paid(partner_order(paris, partner, "B1"), via=PaidVia.PROVIDER)
    partner_order(paris, partner, "C1")  # not paid
    sold(paris, "D1")  # the storefront's, not the partner's
    other, _ = partner_create(name="Other platform", kind=PartnerKind.PLATFORM)
    settled(partner_order(paris, other, "E1"), other)

    answer = seller.get("/api/v1/reports/sales/?group_by=film")

    assert answer.status_code == 200, answer.content
    body = answer.json()
    fees = one.booking_fee + two.booking_fee + three.booking_fee
    assert fees == 2 * 100 + 100 + 100  # a fee per ticket (factories.cinema)
    assert [(r["title"], r["orders"], r["tickets"]) for r in body["rows"]] == [
        (paris.film.title, 3, 4)
    ]
    row = body["rows"][0]
    assert (row["gross"], row["discount"], row["booking_fees"]) == (4 * 1200, 1200, fees)
    assert row["sales"] == 4 * 1200 - 1200 + fees
    assert row["commission"] == one.commission + two.commission > 0
    assert one.commission == one.total // 10 and three.commission == 0
    assert body["settlement"] == [
        {
            "currency": "EUR",
            "orders": 2,
            "tickets": 3,
            "collected": one.total + two.total,
            "commission": one.commission + two.commission,
            "owed_to_cinema": one.total + two.total - one.commission - two.commission,
            "discounts_by_funder": {"studio": 1200, "platform": 0, "cinema": 0},
            "studio_owes": 1200,
        }
    ]
    alone = seller.get("/api/v1/reports/settlement/").json()
    assert alone["statements"] == body["settlement"]


def test_sales_by_day_and_by_screening(world, seller):
    partner = seller.partner
    paris, lyon = world["paris"], world["lyon"]
    paid_on(
        settled(partner_order(paris, partner, "A1"), partner), datetime(2026, 3, 1, 12, tzinfo=UTC)
    )
    paid_on(
        settled(partner_order(lyon, partner, "A1"), partner), datetime(2026, 3, 3, 12, tzinfo=UTC)
    )
    paid_on(
        settled(partner_order(paris, partner, "A2"), partner), datetime(2026, 4, 1, 12, tzinfo=UTC)
    )
    period = "from=2026-03-01&to=2026-03-31"

    by_day = seller.get(f"/api/v1/reports/sales/?{period}&group_by=day").json()
    assert [(r["day"], r["tickets"]) for r in by_day["rows"]] == [
        ("2026-03-01", 1),
        ("2026-03-03", 1),
    ]
    assert (by_day["from"], by_day["to"], by_day["group_by"]) == ("2026-03-01", "2026-03-31", "day")
    by_screening = seller.get(f"/api/v1/reports/sales/?{period}&group_by=screening").json()
    assert {r["screening"]: r["cinema"] for r in by_screening["rows"]} == {
        paris.pk: paris.auditorium.cinema.name,
        lyon.pk: "Lyon Part-Dieu",
    }
    assert by_screening["totals"][0]["tickets"] == 2


def test_sales_and_settlement_as_csv(world, seller):
    partner = seller.partner
    settled(partner_order(world["paris"], partner, "A1", promo="MI5"), partner)

    sales = seller.get("/api/v1/reports/sales/?group_by=screening", HTTP_ACCEPT="text/csv")
    assert sales.status_code == 200 and sales["Content-Type"].startswith("text/csv")
    assert sales["Content-Disposition"] == 'attachment; filename="sales.csv"'
    rows = list(csv.DictReader(io.StringIO(sales.content.decode())))
    assert [(r["group"], r["key"], r["tickets"], r["discount"]) for r in rows] == [
        ("screening", str(world["paris"].pk), "1", "600")
    ]
    statement = seller.get("/api/v1/reports/settlement/?format=csv")
    rows = list(csv.DictReader(io.StringIO(statement.content.decode())))
    assert [(r["currency"], r["orders"], r["studio_owes"]) for r in rows] == [("EUR", "1", "600")]
    assert int(rows[0]["owed_to_cinema"]) == int(rows[0]["collected"]) - int(rows[0]["commission"])


@pytest.mark.parametrize(
    ("query", "code", "details"),
    [
        ("from=2026-13-01", "report_date_invalid", {"field": "from", "value": "2026-13-01"}),
        ("to=yesterday", "report_date_invalid", {"field": "to", "value": "yesterday"}),
        ("from=20260301", "report_date_invalid", {"field": "from", "value": "20260301"}),
        ("from=2026-03-02&to=2026-03-01", "report_period_invalid", {"from": "2026-03-02", "to": "2026-03-01"}),
        ("from=2024-01-01&to=2026-01-01", "report_period_invalid", {"max_days": 366}),
        ("group_by=week", "report_group_by_invalid", {"value": "week", "allowed": ["day", "film", "screening"]}),
    ],
)  # fmt: skip
def test_bad_report_queries_are_refused_precisely(seller, query, code, details):
    for accept in ("application/json", "text/csv"):
        answer = seller.get(f"/api/v1/reports/sales/?{query}", HTTP_ACCEPT=accept)
        assert assert_error(answer, 400, code) == details


def test_an_unknown_format_is_a_bad_query(world, seller):
    studio = client_for(world["campaign"].studio)
    for client, path in (
        (seller, "/api/v1/reports/sales/?format=xml"),
        (seller, "/api/v1/reports/settlement/?format=xml"),
        (studio, report_path(world["campaign"]) + "?format=xml"),
    ):
        assert assert_error(client.get(path), 400, "invalid") == {"field": "format"}


def test_a_partners_sales_need_the_reports_scope(world):
    unscoped = client_for(world["campaign"].platform, scopes=("read", "book"))
    assert_error(unscoped.get("/api/v1/reports/sales/"), 403, "scope_required")
    assert_error(unscoped.get("/api/v1/reports/settlement/"), 403, "scope_required")


def test_the_sales_reports_queries_do_not_grow_with_the_orders(world, seller):
    partner = seller.partner
    settled(partner_order(world["paris"], partner, "A1"), partner)
    seller.get("/api/v1/reports/sales/")

    def queries() -> int:
        with CaptureQueriesContext(connection) as counted:
            assert seller.get("/api/v1/reports/sales/?group_by=screening").status_code == 200
        return len(counted)

    few = queries()
    for label in ["B1", "B2", "C1"]:
        settled(partner_order(world["lyon"], partner, label, promo="MI5"), partner)
    assert queries() == few == 2  # the orders' sums and their tickets' sums
