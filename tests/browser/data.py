"""Data and shared steps for the storefront's browser tests.

Data: `world()` makes one demo-like cinema (the demo's Paris prices, fee and films) with a small
room that has every kind of seat, and a screening of Mission: Impossible tomorrow evening, so
the tests never depend on the time of day. `showcase()` loads the demo itself (three cinemas,
a week of screenings, 300-seat rooms) and sells a few seats, for the screenshots.

Steps: the few things most tests do in the page (open the map, tick seats, hold them, fill the
checkout, pay on the sandbox page), written once with accessible locators.

Everything here runs in the test's thread against the database the live server reads; the live
server tests are transactional, so what is made here is committed and visible at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from playwright.sync_api import Page, expect

from tests import factories
from ticketing.flows import demo
from ticketing.inventory import holds, seatmap
from ticketing.inventory.models import Hold, SeatClaim
from ticketing.orders import services as orders
from ticketing.orders.models import Order
from ticketing.screenings.models import (
    Auditorium,
    Cinema,
    Film,
    Screening,
    Seat,
    SeatTypeSurcharge,
    TicketType,
)

# A small room with every kind of seat (see ticketing/screenings/layouts.py):
#   A: A1 wheelchair, A2 companion, A3-A10 standard (an aisle after A6)
#   B, C: standard; D, E: premium; F: standard with F9 and F10 blocked
#   G: five couple seats (G1+G2, G3+G4, G5+G6 | G7+G8, G9+G10)
ROOM_LAYOUT = """\
wcssss.ssss
ssssss.ssss
ssssss.ssss
pppppp.pppp
pppppp.pppp
ssssss.ssxx
<><><>.<><>
"""

PARIS = next(spec for spec in demo.CINEMAS if spec["slug"] == "paris-bastille")
FILM_SPECS = {spec["slug"]: spec for spec in demo.FILMS}
ROGUE_NATION = demo.ROGUE_NATION
PIP = "pip-and-the-moon-garden"

SANDBOX_OK = "4242 4242 4242 4242"
SANDBOX_DECLINED = "4000 0000 0000 0002"
BUYER_NAME = "Ada Lovelace"
BUYER_EMAIL = "ada@example.com"
OTHER_BUYER = "another-buyer-session"  # the session key of "someone else" holding seats


@dataclass
class World:
    cinema: Cinema
    room: Auditorium
    film: Film
    screening: Screening
    screenings: list[Screening] = field(default_factory=list)

    def seat(self, label: str) -> Seat:
        return Seat.objects.get(auditorium=self.room, row_label=label[0], number=int(label[1:]))

    def seat_id(self, label: str) -> int:
        return self.seat(label).pk

    def ticket_type(self, code: str) -> TicketType:
        return TicketType.objects.get(cinema=self.cinema, code=code)

    def price(self, code: str) -> int:
        return self.ticket_type(code).price

    @property
    def day(self) -> date:
        """The screening's day as the cinema's clock reads it."""
        return timezone.localtime(self.screening.starts_at, self.cinema.tz).date()

    @property
    def home_path(self) -> str:
        """The home page showing the screening's day (tomorrow: the day strip's second day)."""
        return f"/?date={self.day:%Y-%m-%d}"

    @property
    def map_path(self) -> str:
        return f"/screenings/{self.screening.pk}/"


def local_day(cinema: Cinema, days_ahead: int) -> date:
    return timezone.localtime(timezone.now(), cinema.tz).date() + timedelta(days=days_ahead)


def at(cinema: Cinema, day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=ZoneInfo(cinema.time_zone))


def film(slug: str) -> Film:
    return demo.film_from_spec(FILM_SPECS[slug], timezone.now().date())[0]


def paris_cinema(**overrides) -> Cinema:
    """The demo's Paris cinema: euros, four ticket types, premium and couple surcharges, a
    booking fee of €0.50 a ticket capped at €2.00."""
    fields = {
        key: PARIS[key]
        for key in ("name", "slug", "address", "city", "time_zone", "currency", "booking_fee")
    }
    fields["booking_fee_cap"] = PARIS["booking_fee_cap"]
    fields.update(overrides)
    cinema = Cinema.objects.create(**fields)
    for order, (code, name) in enumerate(demo.TICKET_TYPES, start=1):
        TicketType.objects.create(
            cinema=cinema, code=code, name=name, price=PARIS["prices"][code], sort_order=order
        )
    for seat_type, amount in PARIS["surcharges"].items():
        SeatTypeSurcharge.objects.create(cinema=cinema, seat_type=seat_type, amount=amount)
    return cinema


def world(*, layout: str = ROOM_LAYOUT, hold_minutes: int = 10) -> World:
    """A Paris cinema with one room and three screenings of Mission: Impossible (tomorrow at
    16:00 and 19:30, the day after at 19:30) and one of Pip and the Moon Garden (tomorrow at
    13:00). The screening the tests book is tomorrow's 19:30."""
    cinema = paris_cinema(hold_minutes=hold_minutes)
    room = factories.layout_room(cinema, layout, name="Salle 1")
    rogue, pip = film(ROGUE_NATION), film(PIP)
    tomorrow, after = local_day(cinema, 1), local_day(cinema, 2)

    def show(what: Film, day: date, clock: time, **kw) -> Screening:
        return Screening.objects.create(
            film=what, auditorium=room, starts_at=at(cinema, day, clock), **kw
        )

    shows = [
        show(pip, tomorrow, time(13, 0), audio_language="fr"),
        show(rogue, tomorrow, time(16, 0), audio_language="fr"),
        show(rogue, tomorrow, time(19, 30), audio_language="en", subtitles="fr"),
        show(rogue, after, time(19, 30), audio_language="en", subtitles="fr"),
    ]
    return World(cinema=cinema, room=room, film=rogue, screening=shows[2], screenings=shows)


# ---- other buyers ------------------------------------------------------------------------------
def take(w: World, *labels: str, buyer_key: str = OTHER_BUYER) -> Hold:
    """Another buyer holds these seats (through the hold service, as the hold view does)."""
    return holds.hold_create(
        screening_id=w.screening.pk,
        seat_ids=[w.seat_id(label) for label in labels],
        buyer_key=buyer_key,
    )


def sell(screening: Screening, labels: list[str], *, buyer_key: str) -> Order:
    """Seats sold to someone else: an order made and paid through the services."""
    order = factories.pending_order(screening, *labels, buyer_key=buyer_key)
    return orders.order_mark_paid(order_id=order.pk, actor="test")


def expire_soon(hold_id, seconds: float) -> datetime:
    """Bring a live hold's end (and its seat claims') to `seconds` from now."""
    ends = timezone.now() + timedelta(seconds=seconds)
    hold = Hold.objects.get(pk=hold_id)
    Hold.objects.filter(pk=hold_id).update(expires_at=ends)
    SeatClaim.objects.filter(hold_id=hold_id).update(expires_at=ends)
    seatmap.invalidate(hold.screening_id)
    return ends


# ---- the demo, for the screenshots ---------------------------------------------------------------
@dataclass
class Showcase:
    screening: Screening  # Mission: Impossible in IMAX, Paris, Salle 1 (LARGE_LAYOUT), tomorrow
    home_path: str
    film_path: str
    free_pair: tuple[str, str]  # two free seats side by side, good ones, to choose on the map


def showcase() -> Showcase:
    """The demo data (as `make demo` loads it) with some seats of one screening sold."""
    demo.load()
    paris = Cinema.objects.get(slug="paris-bastille")
    tomorrow = local_day(paris, 1)
    starts = at(paris, tomorrow, time(19, 30))
    screening = Screening.objects.select_related("auditorium").get(
        auditorium__cinema=paris, auditorium__name="Salle 1", starts_at=starts
    )
    room = screening.auditorium
    # Sold: a scatter of pairs and families, the middle of the sweet spot going first.
    sold = [
        ["G9", "G10", "G11", "G12"],
        ["H8", "H9"],
        ["H14", "H15", "H16"],
        ["F12", "F13"],
        ["J1", "J2"],
        ["K10", "K11", "K12", "K13"],
        ["M3", "M4"],
        ["A3", "A4"],
        ["E20", "E21"],
    ]
    for n, labels in enumerate(sold):
        labels = [label for label in labels if room.seats.filter(**_label(label)).exists()]
        if labels:
            sell(screening, labels, buyer_key=f"showcase-buyer-{n}")
    holds.hold_create(
        screening_id=screening.pk,
        seat_ids=factories.seats(room, "G7", "G8"),
        buyer_key="showcase-holder",
    )
    # Today's programme when there is still a good part of it, else tomorrow's.
    from ticketing.storefront import selectors

    cinemas = selectors.cinemas()
    today = selectors.today_for(cinemas[0])
    showing = selectors.programme(day=today, cinema=None, all_cinemas=cinemas)
    home = "/" if len(showing) >= 3 else f"/?date={today + timedelta(days=1):%Y-%m-%d}"
    return Showcase(
        screening=screening,
        home_path=home,
        film_path=f"/films/{demo.ROGUE_NATION}/?cinema=paris-bastille",
        free_pair=("H11", "H12"),
    )


def _label(label: str) -> dict:
    return {"row_label": label[0], "number": int(label[1:])}


# ---- steps in the page -------------------------------------------------------------------------
CHECKOUT_URL = re.compile(r"/checkout/([0-9a-f-]{36})/$")
SANDBOX_URL = re.compile(r"/payments/sandbox/")
DONE_URL = re.compile(r"/checkout/done/[^/]+/")


def seat_box(page: Page, room: Auditorium, label: str):
    """A seat's checkbox by its id (stable whatever its state says in its name)."""
    seat = Seat.objects.get(auditorium=room, **_label(label))
    return page.locator(f"#seat-{seat.pk}")


def seat_name(label: str, kind: str = "") -> str:
    """The accessible name of a free seat's checkbox: "Row F, seat 12" (", Premium"...)."""
    name = f"Row {label[0]}, seat {label[1:]}"
    return f"{name}, {kind}" if kind else name


def choose_seats(page: Page, *labels: str) -> None:
    """Tick standard seats by their accessible names."""
    for label in labels:
        box = page.get_by_role("checkbox", name=seat_name(label), exact=True)
        box.check()
        expect(box).to_be_checked()


def hold_seats(page: Page) -> str:
    """Press the map's Hold button; return the hold's id from the checkout URL."""
    page.get_by_role("button", name=re.compile(r"^Hold ")).click()
    page.wait_for_url(CHECKOUT_URL)
    return CHECKOUT_URL.search(page.url).group(1)


def fill_details(page: Page, name: str = BUYER_NAME, email: str = BUYER_EMAIL) -> None:
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Email").fill(email)


def continue_to_payment(page: Page) -> None:
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(SANDBOX_URL)


def pay_on_sandbox(page: Page, card: str = SANDBOX_OK) -> None:
    """Fill the sandbox's card form and pay; wait to be back on the shop's order page."""
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pay for order")
    page.get_by_label("Card number").fill(card)
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Name on card").fill(BUYER_NAME)
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.wait_for_url(DONE_URL)


def expect_confirmed(page: Page) -> None:
    """The confirmation: waits while the page says it is confirming (it reloads itself)."""
    expect(page.get_by_text("Booking confirmed")).to_be_visible(timeout=10_000)


def buy(page: Page, w: World, *labels: str) -> str:
    """From the seat map to the confirmation, with the sandbox's good card. Returns the hold id."""
    page.goto(w.map_path)
    choose_seats(page, *labels)
    hold_id = hold_seats(page)
    fill_details(page)
    continue_to_payment(page)
    pay_on_sandbox(page)
    expect_confirmed(page)
    return hold_id


def order_of(hold_id: str) -> Order:
    return Order.objects.get(hold_id=hold_id)
