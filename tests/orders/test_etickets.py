"""E-tickets: the confirmation email (inline QR per ticket, .ics, order link), the signed order
page with its QR codes and calendar link, and the refund emails."""

from __future__ import annotations

import email
import io
import re
from datetime import UTC, datetime, timedelta
from email.message import Message

import pytest
import segno
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from ticketing import ticket_signing
from ticketing.money import format_money
from ticketing.orders import tickets as eticket
from ticketing.orders.models import Order
from ticketing.orders.services import order_mark_paid
from ticketing.outbox.services import HANDLERS
from ticketing.outbox.topics import AUTO_REFUNDED_TOPIC, REFUNDED_TOPIC

TITLE = "Mission: Impossible - Rogue Nation, the return; part\\2"


@pytest.fixture
def show(db):
    """A screening in New York whose local date is the day before its UTC date."""
    cinema = factories.cinema(
        name="Paragon, Broadway; NYC",
        address="1 Broadway\nNew York, NY",
        time_zone="America/New_York",
        currency="USD",
    )
    room = factories.auditorium(cinema, rows=3, per_row=10, name="Screen 1")
    year = timezone.now().year + 1
    return factories.Screening.objects.create(
        auditorium=room,
        film=factories.film(title=TITLE),
        starts_at=datetime(year, 1, 16, 0, 30, tzinfo=UTC),  # 19:30 EST on 15 January
        subtitles="es",
    )


def paid(screening, *labels, capture) -> Order:
    order = factories.pending_order(screening, *labels)
    with capture(execute=True):
        order_mark_paid(order_id=order.pk, actor="test")
    return (
        Order.objects.select_related("screening__film", "screening__auditorium__cinema")
        .prefetch_related("tickets")
        .get(pk=order.pk)
    )


def parts(message: Message) -> dict[str, list[Message]]:
    found: dict[str, list[Message]] = {}
    for part in message.walk():
        found.setdefault(part.get_content_type(), []).append(part)
    return found


def unfold(ics: str) -> list[str]:
    assert ics.endswith("\r\n")
    assert "\n" not in ics.replace("\r\n", "")  # only CRLF line endings
    physical = ics.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in physical)
    return ics.replace("\r\n ", "").split("\r\n")[:-1]


def ics_fields(ics: str) -> dict[str, str]:
    return dict(line.split(":", 1) for line in unfold(ics))


# --- the confirmation email --------------------------------------------------------------------
def test_the_confirmation_email_has_a_qr_per_ticket_an_ics_and_the_order_link(
    show, django_capture_on_commit_callbacks, mailoutbox
):
    order = paid(show, "A1", "A2", "A3", capture=django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 1
    sent = mailoutbox[0]
    assert order.code in sent.subject and TITLE in sent.subject
    assert sent.to == ["buyer@example.com"]

    raw = email.message_from_bytes(sent.message().as_bytes())  # survives serialisation
    assert raw.get_content_type() == "multipart/mixed"
    alternative, calendar = raw.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, related = alternative.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    html = html_part.get_payload(decode=True).decode()
    text = plain.get_payload(decode=True).decode()

    # One inline PNG per ticket, each referenced from the HTML by its Content-ID.
    tickets = list(order.tickets.all())
    assert len(images) == len(tickets) == 3
    cids = set()
    for image in images:
        assert image.get_content_type() == "image/png"
        assert image.get("Content-Disposition").startswith("inline")
        cid = image["Content-ID"].strip("<>")
        cids.add(cid)
        assert f'src="cid:{cid}"' in html
        assert image.get_payload(decode=True).startswith(b"\x89PNG\r\n\x1a\n")
    assert len(cids) == 3
    assert "data:image" not in html
    assert html.count("<img ") == 3 and html.count('alt="QR code of the ticket for seat') == 3
    by_cid = {f"ticket-{t.pk}@marquee": t for t in tickets}
    for image in images:
        ticket = by_cid[image["Content-ID"].strip("<>")]
        assert image.get_payload(decode=True) == eticket.qr_png(ticket)

    # The order, the screening in the cinema's zone, seats with types and prices, the money.
    link = eticket.order_link(order)
    for body in (text, html):
        assert order.code in body
        assert "Paragon" in body and "Screen 1" in body
        assert f"15 January {show.starts_at.year}, 19:30" in body
        assert "America/New_York" in body and "EST" in body
        assert "subtitles: Spanish" in body
        for t in tickets:
            assert t.seat_label in body and "Adult" in body
        assert format_money(order.booking_fee, "USD") in body
        assert format_money(order.total, "USD") in body
        assert link.rsplit("/orders/", 1)[0] + "/orders/" in body
    token = re.search(r"/orders/([^/\s\"]+)/", text).group(1)
    assert eticket.order_id_from_token(token) == order.pk

    # The calendar entry.
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "PUBLISH"
    assert calendar.get_filename() == f"marquee-{order.code}.ics"
    fields = ics_fields(calendar.get_payload(decode=True).decode())
    assert fields["METHOD"] == "PUBLISH"
    assert fields["DTSTART"] == show.starts_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert fields["DTEND"] == show.ends_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert fields["UID"].startswith(f"order-{order.pk}@")


def test_discount_shows_in_the_email_when_there_is_one(
    show, django_capture_on_commit_callbacks, mailoutbox
):
    order = factories.pending_order(show, "B1")
    Order.objects.filter(pk=order.pk).update(discount=200, total=order.total - 200)
    with django_capture_on_commit_callbacks(execute=True):
        order_mark_paid(order_id=order.pk, actor="test")
    assert "-US$2.00" in mailoutbox[0].body


def test_format_money_knows_zero_decimal_currencies():
    assert format_money(1250, "EUR", "en") == "€12.50"
    assert format_money(5, "GBP", "en") == "£0.05"
    assert format_money(1500, "JPY", "en") == "JP¥1,500"


def test_a_french_buyers_email_writes_money_the_french_way_and_an_english_one_the_english_way(
    db, django_capture_on_commit_callbacks, mailoutbox
):
    paris = factories.screening(factories.auditorium(factories.cinema()))  # euros
    for language in ("fr", "en"):
        order = factories.pending_order(paris, "A1" if language == "fr" else "A2")
        Order.objects.filter(pk=order.pk).update(language=language)
        with django_capture_on_commit_callbacks(execute=True):
            order_mark_paid(order_id=order.pk, actor="test")
    french, english = (message.body for message in mailoutbox)

    assert "12,00\xa0€" in french and "13,00\xa0€" in french  # the ticket, the total
    assert "€12.00" in english and "€13.00" in english
    assert "EUR" not in french + english


# --- QR codes and the calendar file -------------------------------------------------------------
def test_the_qr_holds_only_the_ticket_code_signed(show, django_capture_on_commit_callbacks):
    order = paid(show, "A1", capture=django_capture_on_commit_callbacks)
    ticket = order.tickets.get()
    payload = eticket.qr_payload(ticket)
    assert payload == ticket_signing.sign(code=ticket.code, screening_id=show.pk)
    assert ticket_signing.verify(payload) == ticket_signing.Scanned(ticket.code, show.pk, True)
    expected = segno.make(payload, error="m", micro=False, boost_error=False)
    assert eticket.qr_code(ticket).matrix == expected.matrix
    buffer = io.BytesIO()
    expected.save(buffer, kind="png", scale=8, border=4, dark="#000", light="#fff")
    assert eticket.qr_png(ticket) == buffer.getvalue()
    svg = eticket.qr_svg(ticket)
    assert svg.startswith('<svg role="img" aria-label="QR code of the ticket for seat A1"')
    assert "viewBox" in svg and "<title>" in svg


def test_the_ics_escapes_text_and_folds_long_lines(show, django_capture_on_commit_callbacks):
    order = paid(show, "A1", "A2", capture=django_capture_on_commit_callbacks)
    ics = eticket.calendar_ics(order)
    lines = unfold(ics)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == 1 and "VERSION:2.0" in lines
    fields = ics_fields(ics)
    assert fields["SUMMARY"] == r"Mission: Impossible - Rogue Nation\, the return\; part\\2"
    assert fields["LOCATION"].startswith(r"Paragon\, Broadway\; NYC · Screen 1 · 1 Broadway\n")
    assert fields["DESCRIPTION"].startswith(f"Order {order.code}\\nSeats: A1 (Adult)\\, A2 (Adult)")
    assert fields["URL"] == eticket.order_link(order)
    assert re.fullmatch(r"\d{8}T\d{6}Z", fields["DTSTAMP"])


def test_ics_fold_never_splits_a_character():
    folded = eticket.ics_fold("DESCRIPTION:" + "é" * 100)
    assert all(len(line.encode()) <= 75 for line in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == "DESCRIPTION:" + "é" * 100


# --- the order page -----------------------------------------------------------------------------
def test_the_order_page_shows_every_ticket_with_its_qr(
    client, show, django_capture_on_commit_callbacks
):
    order = paid(show, "A1", "A2", capture=django_capture_on_commit_callbacks)
    url = eticket.order_path(order)
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert order.code in page and TITLE.replace("\\", "\\") in page
    assert "Paid" in page and "America/New_York" in page and "19:30" in page
    assert page.count('<svg role="img"') == 2
    for t in order.tickets.all():
        assert t.code in page and f"Seat {t.seat_label}" in page
        assert f'aria-label="QR code of the ticket for seat {t.seat_label}"' in page
    assert f"{url}calendar.ics" in page
    assert "http://" not in page.replace(eticket.order_link(order), "")  # no external assets
    assert response["Cache-Control"] == "private, no-store"


def test_a_refunded_ticket_is_marked_and_has_no_qr(
    client, show, django_capture_on_commit_callbacks
):
    order = paid(show, "A1", "A2", capture=django_capture_on_commit_callbacks)
    order.tickets.filter(seat_label="A2").update(refunded_at=timezone.now())
    page = client.get(eticket.order_path(order)).content.decode()
    assert page.count('<svg role="img"') == 1 and "Refunded" in page
    assert order.tickets.get(seat_label="A2").code not in page


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature altered
        lambda t: "x" + t[1:],  # payload altered
        lambda t: "not-a-token",
        lambda t: t.split(":")[0],
    ],
)
def test_a_tampered_token_is_a_404(client, show, django_capture_on_commit_callbacks, mangle):
    order = paid(show, "A1", capture=django_capture_on_commit_callbacks)
    token = eticket.order_token(order)
    assert client.get(f"/orders/{mangle(token)}/").status_code == 404
    assert client.get(f"/orders/{mangle(token)}/calendar.ics").status_code == 404


def test_a_token_for_another_purpose_is_a_404(client, show, django_capture_on_commit_callbacks):
    from django.core import signing

    order = paid(show, "A1", capture=django_capture_on_commit_callbacks)
    other = signing.dumps(order.pk.hex, salt="something.else")
    assert client.get(f"/orders/{other}/").status_code == 404


def test_the_link_stops_working_a_while_after_the_screening(
    client, show, django_capture_on_commit_callbacks
):
    order = paid(show, "A1", capture=django_capture_on_commit_callbacks)
    url = eticket.order_path(order)
    factories.Screening.objects.filter(pk=show.pk).update(
        starts_at=timezone.now() - timedelta(days=40), ends_at=timezone.now() - timedelta(days=39)
    )
    assert client.get(url).status_code == 404


def test_an_unpaid_order_shows_no_valid_tickets(client, show):
    order = factories.pending_order(show, "A1", "A2")
    page = client.get(eticket.order_path(order)).content.decode()
    assert "Awaiting payment" in page
    assert "<svg" not in page
    for t in order.tickets.all():
        assert t.code not in page
    assert "calendar.ics" not in page


def test_the_calendar_link_serves_text_calendar(client, show, django_capture_on_commit_callbacks):
    order = paid(show, "A1", capture=django_capture_on_commit_callbacks)
    response = client.get(eticket.order_path(order) + "calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    fields = ics_fields(response.content.decode())
    assert fields["DTSTART"] == show.starts_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def test_the_order_page_query_count_does_not_grow_with_tickets(
    client, show, django_capture_on_commit_callbacks
):
    small = paid(show, "A1", "A2", capture=django_capture_on_commit_callbacks)
    big = paid(show, "B1", "B2", "B3", "B4", "B5", "B6", capture=django_capture_on_commit_callbacks)
    counts = []
    for order in (small, big):
        url = eticket.order_path(order)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 2


# --- refund emails ------------------------------------------------------------------------------
def test_the_refund_email_names_the_amount_and_the_tickets(
    show, django_capture_on_commit_callbacks, mailoutbox
):
    order = paid(show, "A1", "A2", capture=django_capture_on_commit_callbacks)
    a2 = order.tickets.get(seat_label="A2")
    mailoutbox.clear()
    HANDLERS[REFUNDED_TOPIC](
        {
            "order_id": str(order.pk),
            "amount": 1200,
            "currency": "USD",
            "ticket_ids": [a2.pk],
            "reason": "requested by the buyer",
        }
    )
    sent = mailoutbox[0]
    assert order.code in sent.subject and sent.to == ["buyer@example.com"]
    html = sent.alternatives[0].content
    for body in (sent.body, html):
        assert "US$12.00" in body and "requested by the buyer" in body
        assert "Part of your order" in body or "part of your order" in body
        assert "A2" in body and "still valid" in body


def test_the_whole_order_refund_email(show, django_capture_on_commit_callbacks, mailoutbox):
    order = paid(show, "A1", capture=django_capture_on_commit_callbacks)
    mailoutbox.clear()
    HANDLERS[REFUNDED_TOPIC](
        {"order_id": str(order.pk), "amount": order.total, "currency": "USD", "reason": ""}
    )
    assert f"Your order {order.code} has been refunded." in mailoutbox[0].body
    assert "still valid" not in mailoutbox[0].body


def test_the_seats_lost_email_explains_plainly(show, mailoutbox):
    order = factories.pending_order(show, "A1")
    HANDLERS[AUTO_REFUNDED_TOPIC]({"order_id": str(order.pk), "amount": 1300, "currency": "USD"})
    sent = mailoutbox[0]
    assert "refunded" in sent.subject and order.code in sent.subject
    for body in (sent.body, sent.alternatives[0].content):
        assert "US$13.00" in body
        assert "booked by someone else" in body and "hold seats for had run out" in body
        assert "No tickets were issued" in body


def test_a_french_buyer_gets_the_confirmation_in_french_with_translated_ticket_types(
    show, django_capture_on_commit_callbacks, mailoutbox
):
    order = factories.pending_order(show, "B1")
    Order.objects.filter(pk=order.pk).update(language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        order_mark_paid(order_id=order.pk, actor="test")

    text = mailoutbox[0].body
    assert f"Votre réservation est confirmée. Numéro de commande\u00a0: {order.code}" in text
    assert "Adulte" in text and "Adult " not in text
    assert "sous-titres\u00a0: espagnol" in text or "sous-titres : espagnol" in text


def test_an_email_sent_twice_has_the_same_message_id(screening, mailoutbox):
    """A worker that dies between sending and recording sends again (at least once); the same
    Message-ID lets mail systems show the buyer one email (issue 9, hole 8)."""
    from ticketing.orders.emails import confirmation_message

    order = factories.pending_order(screening, "A1")
    first = confirmation_message(order).message()["Message-ID"]
    again = confirmation_message(order).message()["Message-ID"]
    other = confirmation_message(factories.pending_order(screening, "A2", buyer_key="b2"))

    assert first == again
    assert first.startswith("<") and first.endswith(">")
    assert other.message()["Message-ID"] != first
