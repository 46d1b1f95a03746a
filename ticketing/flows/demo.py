"""Demo data: three cinemas in three time zones, films, a week of screenings, partners, a
studio's campaign, staff.

Everything is keyed by slug or name and made with get_or_create, so loading twice changes
nothing, and what staff edited since (a price, a layout, a screening) is left alone. Screenings
are planned per auditorium and local day: a day that already has screenings is skipped, so a
run on a later day only adds the days that are missing.

Why here, in flows: the demo needs nearly every domain (the catalogue, partners and their keys,
the staff login, the Rogue Nation campaign), and in the layers only flows and the
interfaces may import them all. A domain package cannot hold it without importing its
neighbours or the packages above it, and flows is still checked by the layers contract, which a
module beside the packages would not be. Unlike a flow, it writes catalogue rows (cinemas,
films, prices, screenings) itself, with get_or_create, as staff do in the admin: those tables
have no services. What has one is made through it: seats through `flows.layouts`, partners and
their keys through `partners.services.partner_create`, the campaign and its codes through
`promotions.campaigns` and `promotions.codes`.
"""

from __future__ import annotations

import contextlib
import io
import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from PIL import Image, ImageDraw, ImageFont

from promotions import campaigns, codes
from promotions.models import Campaign, DiscountKind, Funder
from ticketing import errors
from ticketing.inventory import allocations
from ticketing.partners.models import Partner, PartnerKind, Scope
from ticketing.partners.services import partner_create
from ticketing.screenings.models import (
    Auditorium,
    Cinema,
    Film,
    Screening,
    ScreeningFormat,
    ScreeningPrice,
    ScreeningStatus,
    Seat,
    SeatTypeSurcharge,
    TicketType,
)

from . import layouts

DAYS = 7
STAFF_USERNAME = "staff"
STAFF_PASSWORD = "marquee-demo"  # noqa: S105 - the documented demo login, local use only
ADMIN_URL = "http://127.0.0.1:8000/admin/"
STAFF_URL = "http://127.0.0.1:8000/staff/"
PLATFORM_PARTNER = "Demo Platform"
DEMO_ALLOCATION_SEATS = 40
STUDIO_PARTNER = "Northlight Pictures"

# About 310 seats: wheelchair spaces and companion seats at the front, two aisles, a walkway,
# premium rows in the middle, two blocked seats for the mixing desk, couple seats at the back.
LARGE_LAYOUT = """\
wcsss.ssssssssssssss.ssscw
sssss.ssssssssssssss.sssss
sssss.ssssssssssssss.sssss
sssss.ssssssssssssss.sssss
sssss.ssssssssssssss.sssss
.
sssss.pppppppppppppp.sssss
sssss.pppppppppppppp.sssss
sssss.pppppppppppppp.sssss
sssss.pppppppppppppp.sssss
sssss.ssssssssssssss.sssss
sssss.ssssssssssssss.sssss
sssss.ssssssxxssssss.sssss
<><>..<><><><><><><>..<><>
"""

# 80 seats, one aisle, a wheelchair space with its companion seat in the front row.
SMALL_LAYOUT = """\
wcssssss.ss
ssssssss.ss
ssssssss.ss
ssssssss.ss
ssssssss.ss
ssssssss.ss
ssssssss.ss
ssssssss.ss
"""

# The names are stored in English (staff can rename them); gettext_noop only gives them msgids
# so that the storefront's {% translate t.name %} finds them in the catalogues.
TICKET_TYPES = [
    ("adult", gettext_noop("Adult")),
    ("child", gettext_noop("Child (under 15)")),
    ("senior", gettext_noop("Senior (65+)")),
    ("student", gettext_noop("Student")),
]

CINEMAS = [
    {
        "slug": "paris-bastille",
        "name": "Marquee Paris Bastille",
        "address": "12 rue de la Roquette\n75011 Paris\nFrance",
        "city": "Paris",
        "time_zone": "Europe/Paris",
        "currency": "EUR",
        "language": "fr",
        "booking_fee": 50,
        "booking_fee_cap": 200,
        "prices": {"adult": 1290, "child": 690, "senior": 990, "student": 890},
        "surcharges": {"premium": 250, "couple": 200},
        "format_extra": {"3D": 200, "IMAX": 400},
        "rooms": [("Salle 1", "large"), ("Salle 2", "small")],
    },
    {
        "slug": "london-southbank",
        "name": "Marquee London Southbank",
        "address": "48 Belvedere Road\nLondon SE1 8XX\nUnited Kingdom",
        "city": "London",
        "time_zone": "Europe/London",
        "currency": "GBP",
        "language": "en",
        "booking_fee": 95,
        "booking_fee_cap": 380,
        "prices": {"adult": 1450, "child": 950, "senior": 1150, "student": 1050},
        "surcharges": {"premium": 350, "couple": 300},
        "format_extra": {"3D": 250, "IMAX": 450},
        "rooms": [("Screen 1", "large"), ("Screen 2", "small")],
    },
    {
        "slug": "shanghai-xintiandi",
        "name": "Marquee Shanghai Xintiandi",
        "address": "Lane 181 Taicang Road, Huangpu District\nShanghai 200021\nChina",
        "city": "Shanghai",
        "time_zone": "Asia/Shanghai",
        "currency": "CNY",
        "language": "zh",
        "booking_fee": 300,
        "booking_fee_cap": 1200,
        "prices": {"adult": 6800, "child": 3800, "senior": 4800, "student": 4200},
        "surcharges": {"premium": 2000, "couple": 3000},
        "format_extra": {"3D": 1000, "IMAX": 2500},
        "rooms": [("Hall 1", "large"), ("Hall 2", "small")],
    },
]

ROGUE_NATION = "mission-impossible-rogue-nation"
CAMPAIGN_NAME = "Mission: Impossible - Rogue Nation"
CAMPAIGN_CURRENCY = "EUR"  # a campaign has one currency: the Paris cinema's
PRESALE_PREFIX = "MI5"
PRESALE_CODES = 50
MATINEE_CODE = "MATINEE"
WEEKEND = (4, 5, 6)  # Friday to Sunday

# release: a date, or days from today (negative: already out; positive: coming soon).
FILMS = [
    {
        "slug": ROGUE_NATION,
        "title": "Mission: Impossible - Rogue Nation",
        "runtime_minutes": 131,
        "certificate": "12A",
        "release": date(2015, 7, 30),
        "languages": ["en", "fr", "zh"],
        "synopsis": (
            "With the IMF disbanded and the CIA hunting him, Ethan Hunt goes rogue to prove that "
            "the Syndicate is real: a shadow network of agents the world believes dead, trained "
            "as well as his own team and sworn to tear down the order that made them. Reunited "
            "with Benji, Luther and a reluctant Brandt, Ethan crosses paths with Ilsa Faust, a "
            "British agent embedded in the Syndicate whose loyalties stay unclear from a Vienna "
            "opera house to an underwater vault in Morocco and the streets of London."
        ),
    },
    {
        "slug": "the-cartographers-daughter",
        "title": "The Cartographer's Daughter",
        "runtime_minutes": 118,
        "certificate": "12A",
        "release": -24,
        "languages": ["en"],
        "synopsis": (
            "When her estranged father dies leaving an unfinished map of a coastline that does "
            "not exist, a London surveyor sails north to finish it, and finds the islanders "
            "have been waiting for her."
        ),
    },
    {
        "slug": "les-nuits-de-belleville",
        "title": "Les Nuits de Belleville",
        "runtime_minutes": 104,
        "certificate": "15",
        "release": -17,
        "languages": ["fr"],
        "synopsis": (
            "Over one sweltering August week, a night-bus driver, a retired jazz pianist and a "
            "runaway teenager keep crossing paths on the hills of Belleville."
        ),
    },
    {
        "slug": "lanterns-over-the-huangpu",
        "title": "Lanterns over the Huangpu",
        "runtime_minutes": 112,
        "certificate": "12A",
        "release": -10,
        "languages": ["zh"],
        "synopsis": (
            "Shanghai, 1937. A lantern maker's apprentice hides a wounded journalist in the "
            "family workshop as the city braces for war."
        ),
    },
    {
        "slug": "pip-and-the-moon-garden",
        "title": "Pip and the Moon Garden",
        "runtime_minutes": 89,
        "certificate": "U",
        "release": -31,
        "languages": ["en", "fr", "zh"],
        "synopsis": (
            "A small hedgehog who is afraid of the dark must cross the whole garden by moonlight "
            "to bring back the seed that keeps the flowers singing."
        ),
    },
    {
        "slug": "the-long-crossing",
        "title": "The Long Crossing",
        "runtime_minutes": 172,
        "certificate": "12A",
        "release": -5,
        "languages": ["en"],
        "synopsis": (
            "An epic of the 1911 Antarctic race, told by the expedition's youngest member, who "
            "kept the diary nobody was meant to read."
        ),
    },
    {
        "slug": "hollow-tide",
        "title": "Hollow Tide",
        "runtime_minutes": 97,
        "certificate": "15",
        "release": -3,
        "languages": ["en"],
        "synopsis": (
            "Every spring tide, the drowned village in the estuary rises a little further out "
            "of the water. This year, its church bell rings."
        ),
    },
    {
        "slug": "starfall-part-one",
        "title": "Starfall: Part One",
        "runtime_minutes": 148,
        "certificate": "12A",
        "release": 17,
        "languages": ["en", "fr", "zh"],
        "synopsis": (
            "The last pilots of a failing orbital colony volunteer for a one-way mission to "
            "catch the comet that could save it."
        ),
    },
    {
        "slug": "the-quiet-orchard",
        "title": "The Quiet Orchard",
        "runtime_minutes": 101,
        "certificate": "PG",
        "release": 31,
        "languages": ["en"],
        "synopsis": (
            "Three sisters return to their grandmother's apple farm for one last harvest before "
            "it is sold."
        ),
    },
]

# The formats each film is made in, beyond 2D.
FILM_FORMATS = {
    ROGUE_NATION: {"IMAX"},
    "pip-and-the-moon-garden": {"3D"},
    "the-long-crossing": {"3D"},
}

# Each slot: (local start, films to rotate through day by day, format in the large room when
# the film has it, "daily" or "weekend").
# Starts slide later when the previous film runs long, always leaving the cleaning gap.
PROGRAMME = {
    "large": [
        (time(10, 30), ["pip-and-the-moon-garden"], "3D", "weekend"),
        (time(13, 0), [ROGUE_NATION, "the-long-crossing"], "2D", "daily"),
        (time(16, 0), ["pip-and-the-moon-garden", "the-cartographers-daughter"], "3D", "daily"),
        (time(19, 30), [ROGUE_NATION], "IMAX", "daily"),
        (time(22, 0), ["hollow-tide", ROGUE_NATION], "2D", "daily"),
    ],
    "small": [
        (time(13, 0), ["les-nuits-de-belleville", "lanterns-over-the-huangpu"], "2D", "daily"),
        (time(16, 0), ["the-cartographers-daughter", "hollow-tide"], "2D", "daily"),
        (
            time(19, 30),
            ["lanterns-over-the-huangpu", "les-nuits-de-belleville", "the-long-crossing"],
            "2D",
            "daily",
        ),
        (time(22, 0), ["hollow-tide", "the-cartographers-daughter"], "2D", "daily"),
    ],
}
LATEST_START = time(23, 30)


@dataclass
class DemoResult:
    created: dict[str, int] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # partner name -> raw key, new ones only
    staff_created: bool = False
    # demo staff username -> its authenticator's key when made now with a key of its own
    staff_keys: dict[str, str | None] = field(default_factory=dict)

    def add(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n


@transaction.atomic
def load(*, today: date | None = None) -> DemoResult:
    """Load (or top up) the demo data.

    Screenings cover `DAYS` days from `today`, by default each cinema's own today.
    """
    result = DemoResult()
    films = _films(today or timezone.now().date(), result)
    for spec in CINEMAS:
        cinema = _cinema(spec, result)
        first_day = today or timezone.localtime(timezone.now(), cinema.tz).date()
        ticket_types = list(cinema.ticket_types.all())
        for index, (name, kind) in enumerate(spec["rooms"]):
            room = _auditorium(cinema, name, kind, result)
            _screenings(room, kind, index, spec, films, ticket_types, first_day, result)
    _partners(result)
    _campaign(films[ROGUE_NATION], today, result)
    _staff(result)
    return result


def film_from_spec(spec: dict, today: date) -> tuple[Film, bool]:
    """One of FILMS, made if missing (a release given in days counts from `today`)."""
    release = spec["release"]
    if isinstance(release, int):
        release = today + timedelta(days=release)
    return Film.objects.get_or_create(
        slug=spec["slug"],
        defaults={
            "title": spec["title"],
            "runtime_minutes": spec["runtime_minutes"],
            "certificate": spec["certificate"],
            "release_date": release,
            "languages": spec["languages"],
            "synopsis": spec["synopsis"],
        },
    )


def _films(today: date, result: DemoResult) -> dict[str, Film]:
    films = {}
    for spec in FILMS:
        film, created = film_from_spec(spec, today)
        result.add("films", created)
        films[film.slug] = film
    return films


def _cinema(spec: dict, result: DemoResult) -> Cinema:
    cinema, created = Cinema.objects.get_or_create(
        slug=spec["slug"],
        defaults={
            key: spec[key]
            for key in (
                "name",
                "address",
                "city",
                "time_zone",
                "currency",
                "booking_fee",
                "booking_fee_cap",
            )
        },
    )
    result.add("cinemas", created)
    for order, (code, name) in enumerate(TICKET_TYPES, start=1):
        _, made = TicketType.objects.get_or_create(
            cinema=cinema,
            code=code,
            defaults={"name": name, "price": spec["prices"][code], "sort_order": order},
        )
        result.add("ticket types", made)
    for seat_type, amount in spec["surcharges"].items():
        _, made = SeatTypeSurcharge.objects.get_or_create(
            cinema=cinema, seat_type=seat_type, defaults={"amount": amount}
        )
        result.add("surcharges", made)
    return cinema


def _auditorium(cinema: Cinema, name: str, kind: str, result: DemoResult) -> Auditorium:
    room, created = Auditorium.objects.get_or_create(cinema=cinema, name=name)
    result.add("auditoriums", created)
    if not room.seats.exists():  # a layout staff have edited since is theirs
        change = layouts.layout_replace(
            auditorium=room, text=LARGE_LAYOUT if kind == "large" else SMALL_LAYOUT
        )
        result.add("seats", change.created)
    return room


def _presentation(spec: dict, film: Film, *, matinee: bool, captioned: bool) -> tuple[str, str]:
    """(audio, subtitles): a film in the local language as it is (with English subtitles for
    deaf audiences at the captioned show); a foreign film dubbed at matinees where a dub
    exists, otherwise in its original language with local subtitles."""
    local = spec["language"]
    original = film.languages[0] if film.languages else "en"
    if original == local:
        return local, (local if captioned else "")
    if matinee and local in film.languages:
        return local, ""
    return original, local


def _screenings(
    room: Auditorium,
    kind: str,
    room_index: int,
    spec: dict,
    films: dict[str, Film],
    ticket_types: list[TicketType],
    first_day: date,
    result: DemoResult,
) -> None:
    tz = room.cinema.tz
    window_start = datetime.combine(first_day - timedelta(days=1), time.min, tzinfo=tz)
    window_end = datetime.combine(first_day + timedelta(days=DAYS + 1), time.min, tzinfo=tz)
    existing = list(
        Screening.objects.filter(
            auditorium=room, starts_at__gte=window_start, starts_at__lt=window_end
        ).values_list("starts_at", "ends_at", "status")
    )
    days_planned = {timezone.localtime(starts, tz).date() for starts, _, _ in existing}
    busy = [(s, e) for s, e, status in existing if status == ScreeningStatus.SCHEDULED]

    new: list[Screening] = []
    for offset in range(DAYS):
        day = first_day + timedelta(days=offset)
        if day in days_planned:
            continue  # planned already (by an earlier run, or by staff)
        previous_end: datetime | None = None
        for start, rotation, large_format, when in PROGRAMME[kind]:
            if when == "weekend" and day.weekday() < 5:
                continue
            film = films[rotation[(day.toordinal() + room_index) % len(rotation)]]
            starts = datetime.combine(day, start, tzinfo=tz)
            if previous_end is not None and previous_end > starts:
                starts = _next_quarter_hour(previous_end, tz)
            if starts.astimezone(tz).time() > LATEST_START or starts.astimezone(tz).date() != day:
                continue
            starts = starts.astimezone(UTC)
            ends = starts + timedelta(minutes=film.runtime_minutes) + Screening.CLEANING
            if any(s < ends and starts < e for s, e in busy):
                continue
            fmt = large_format if kind == "large" else ScreeningFormat.TWO_D
            if fmt not in FILM_FORMATS.get(film.slug, ()):
                fmt = ScreeningFormat.TWO_D
            audio, subtitles = _presentation(
                spec,
                film,
                matinee=start < time(17, 0),
                captioned=kind == "small" and start == time(16, 0),
            )
            new.append(
                Screening(
                    film=film,
                    auditorium=room,
                    starts_at=starts,
                    ends_at=ends,
                    format=fmt,
                    audio_language=audio,
                    subtitles=subtitles,
                )
            )
            busy.append((starts, ends))
            previous_end = ends
    if not new:
        return
    Screening.objects.bulk_create(new)
    if any(s.pk is None for s in new):  # a backend that does not return ids
        starts = [s.starts_at for s in new]
        new = list(Screening.objects.filter(auditorium=room, starts_at__in=starts))
    extra = spec["format_extra"]
    ScreeningPrice.objects.bulk_create(
        ScreeningPrice(screening=s, ticket_type=t, price=t.price + extra[s.format])
        for s in new
        if s.format in extra
        for t in ticket_types
    )
    result.add("screenings", len(new))


def _next_quarter_hour(moment: datetime, tz) -> datetime:
    local = moment.astimezone(tz).replace(second=0, microsecond=0)
    if moment.astimezone(tz) > local:
        local += timedelta(minutes=1)
    rest = local.minute % 15
    if rest:
        local += timedelta(minutes=15 - rest)
    return local


def _partners(result: DemoResult) -> None:
    wanted = [
        (
            PLATFORM_PARTNER,
            PartnerKind.PLATFORM,
            [Scope.READ, Scope.BOOK, Scope.SETTLE, Scope.REPORTS],
        ),
        (STUDIO_PARTNER, PartnerKind.STUDIO, [Scope.READ, Scope.CAMPAIGNS, Scope.REPORTS]),
    ]
    for name, kind, scopes in wanted:
        if Partner.objects.filter(name=name).exists():
            continue  # its key was shown when it was made; never another one here
        _, raw = partner_create(name=name, kind=kind, scopes=scopes)
        result.keys[name] = raw
        result.add("partners")


# ---- the Rogue Nation campaign ---------------------------------------------------------------
def _opening_weekend(cinema: Cinema, first_day: date) -> tuple[list[date], datetime]:
    """The opening weekend in a cinema's zone: its first Friday to Sunday at least two days
    from `first_day` within the planned week, and when general sale opens for it (10:00 the
    day before), so that the presale before it matters on the day the demo is loaded."""
    days = [first_day + timedelta(days=n) for n in range(2, DAYS)]
    # Days 2 to 6 are five days in a row: one of them is always a Friday, Saturday or Sunday.
    start = next(i for i, day in enumerate(days) if day.weekday() in WEEKEND)
    weekend = list(itertools.takewhile(lambda day: day.weekday() in WEEKEND, days[start:]))
    opens = datetime.combine(weekend[0] - timedelta(days=1), time(10, 0), tzinfo=cinema.tz)
    return weekend, opens


def _banner_png() -> bytes:
    """The campaign's banner image, drawn here (Pillow's own font): 480 x 270, about 11 kB."""
    width, height = 480, 270
    image = Image.new("RGB", (width, height), "#0d0d12")
    draw = ImageDraw.Draw(image)
    for y in range(height):  # night sky to a red horizon
        draw.line([(0, y), (width, y)], fill=(13 + 60 * y // height, 13, 18))
    draw.line([(0, 212), (width, 150)], fill="#e63946", width=3)  # the fuse
    draw.ellipse([(width - 46, 136), (width - 18, 164)], fill="#ffb703")
    big, small = ImageFont.load_default(size=44), ImageFont.load_default(size=20)
    draw.text((26, 36), "MISSION: IMPOSSIBLE", font=small, fill="#e0e0e6")
    draw.text((24, 62), "ROGUE NATION", font=big, fill="#ffffff")
    draw.text((26, 226), "Opening weekend presale", font=small, fill="#ffb703")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _campaign(film: Film, today: date | None, result: DemoResult) -> None:
    """The studio's campaign for Rogue Nation with the platform: its presale is open now for
    the opening weekend in its currency's cinemas (their screenings go on general sale later),
    with a batch of single-use presale codes, a weekday matinee code and a banner. Made once:
    a campaign of that name and studio is left as staff have it."""
    studio = Partner.objects.filter(name=STUDIO_PARTNER, kind=PartnerKind.STUDIO).first()
    platform = Partner.objects.filter(name=PLATFORM_PARTNER, kind=PartnerKind.PLATFORM).first()
    if studio is None or platform is None or not (studio.is_active and platform.is_active):
        return
    if Campaign.objects.filter(name=CAMPAIGN_NAME, studio=studio).exists():
        return
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for cinema in Cinema.objects.filter(currency=CAMPAIGN_CURRENCY):
        weekend, opens = _opening_weekend(
            cinema, today or timezone.localtime(timezone.now(), cinema.tz).date()
        )
        shows = [
            s
            for s in Screening.objects.filter(
                film=film, auditorium__cinema=cinema, sales_open_at__isnull=True
            )
            if timezone.localtime(s.starts_at, cinema.tz).date() in weekend
        ]
        Screening.objects.filter(pk__in=[s.pk for s in shows]).update(sales_open_at=opens)
        result.add("screenings in the presale", len(shows))
    campaign = campaigns.campaign_create(
        name=CAMPAIGN_NAME,
        studio=studio,
        platform=platform,
        funder=Funder.STUDIO,
        films=[film],
        starts_at=now - timedelta(hours=1),
        presale_opens_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=30),
        currency=CAMPAIGN_CURRENCY,
        budget=250_000,
        banner_title=film.title,
        banner_text=(
            "Opening weekend presale: book before general sale with your MI5 code, 25% off. "
            f"Weekday matinees at 8 EUR with {MATINEE_CODE}."
        ),
        banner_image=ContentFile(_banner_png(), name="rogue-nation.png"),
    )
    made = codes.codes_generate(
        campaign=campaign,
        count=PRESALE_CODES,
        prefix=PRESALE_PREFIX,
        kind=DiscountKind.PERCENT,
        value=25,
        max_uses=1,
        max_tickets=4,
        opens_presale=True,
    )
    with contextlib.suppress(errors.PromoCodeTaken):  # another campaign's: the batch will do
        made.append(
            codes.code_create(
                campaign=campaign,
                code=MATINEE_CODE,
                kind=DiscountKind.SET_PRICE,
                value=800,
                weekdays=[1, 2, 3, 4, 5],
                starts_before=time(17, 0),
                max_uses_per_email=2,
            )
        )
    # The platform's presale: 40 seats of the opening's first screening set aside for it until
    # general sale opens; then they are back on sale for everyone.
    first = (
        Screening.objects.filter(film=film, sales_open_at__gt=now, status=ScreeningStatus.SCHEDULED)
        .order_by("starts_at")
        .first()
    )
    if first is not None:
        back_rows = Seat.objects.filter(
            auditorium_id=first.auditorium_id, is_sellable=True, seat_type="standard"
        ).order_by("-y", "x")[:DEMO_ALLOCATION_SEATS]
        with contextlib.suppress(errors.DomainError):  # seats already taken: none set aside
            allocations.allocation_create(
                screening_id=first.pk,
                partner=platform,
                seat_ids=[seat.pk for seat in back_rows],
                release_at=first.sales_open_at,
            )
            result.add("seats set aside for the platform", DEMO_ALLOCATION_SEATS)
    result.add("campaigns")
    result.add("promo codes", len(made))


def _staff(result: DemoResult) -> None:
    """The superuser, then the staff app's members with their roles, cinemas and
    authenticators (ticketing/staff/demo.py: the staff app writes its own tables)."""
    from ticketing.staff.demo import demo_staff_load

    User = get_user_model()
    if not User.objects.filter(username=STAFF_USERNAME).exists():
        User.objects.create_superuser(STAFF_USERNAME, "staff@marquee.local", STAFF_PASSWORD)
        result.staff_created = True
    result.staff_keys = demo_staff_load(superuser=STAFF_USERNAME, password=STAFF_PASSWORD)
