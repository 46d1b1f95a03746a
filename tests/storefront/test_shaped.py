"""A template rendered once per shape and filled per request (ticketing.storefront.shaped) gives
the very HTML Django's engine gives, whatever the values, the language or the state; a change
to anything that is not a slot is another shape; a slot the template would change is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.signals import template_rendered
from django.utils import translation

from ticketing.onsale.selectors import OnsaleInfo
from ticketing.storefront import onsale_gate
from ticketing.storefront.shaped import ShapedTemplate

ONSALE = OnsaleInfo(
    id=7,
    name='Dune <Part Three> & "friends"',
    opens_at=datetime(2026, 12, 18, 8, 0, tzinfo=UTC),
    admit_per_minute=600,
    admission_minutes=10,
    ticket_limit=6,
    paused=False,
    zone="Europe/Paris",
)


def page_context(*, state="waiting", position=412, text="You are number 412.", **changes):
    context = {
        "onsale": ONSALE,
        "status": {
            "state": state,
            "serverTime": 1_796_000_000_123,
            "opensAt": 1_796_000_000_000 if state == "early" else None,
            "position": position,
            "perMinute": 10.5,
            "waitMinutes": 4.2,
            "paused": False,
            "admitted": False,
            "positionText": text,
            "estimateText": "About 5 minutes to go.",
        },
        "opens_local": "Friday 18 December, 09:00",
        "refresh": 10,
        "reason": "",
        "requeued": False,
        "status_url": "/wait/7/status.json",
        "page_url": "/wait/7/?s=3",
        "poll_ms": 5000,
        "opens_in": "",
        "csrf_token": "tok3n",
    }
    context.update(changes)
    return context


@pytest.fixture
def page():
    return ShapedTemplate("storefront/waiting.html", slots=onsale_gate.WAITING_PAGE_SLOTS)


@pytest.fixture
def request_():
    return RequestFactory().get("/wait/7/?s=3")


@pytest.fixture
def renders():
    """How many times Django's engine rendered the waiting page."""
    seen = []

    def count(sender, template, context, **kwargs):
        if template.name == "storefront/waiting.html":
            seen.append(template.name)

    template_rendered.connect(count)
    yield seen
    template_rendered.disconnect(count)


CASES = {
    "waiting": page_context(),
    "a big number": page_context(position=12_345, text="You are number 12345."),
    "early": page_context(state="early", position=None, opens_in="1:02:03", refresh=30),
    "opening": page_context(state="opening", position=None, text="Opening…", refresh=2),
    "told why": page_context(reason="Your admission time is over.", requeued=True),
    "values to escape": page_context(
        text='<script>alert("x")</script> & more', page_url="/wait/7/?s=3&why=expired"
    ),
    "one second": page_context(refresh=1),
    "no estimate": page_context(**{"status": {**page_context()["status"], "estimateText": ""}}),
}


@pytest.mark.parametrize("language", ["en", "fr", "zh-hans"])
@pytest.mark.parametrize("case", CASES)
def test_the_filled_page_is_the_page_django_renders(page, request_, renders, case, language):
    context = CASES[case]
    with translation.override(language):
        expected = render_to_string("storefront/waiting.html", context, request_)
        first = page.render(request_, context)  # makes the shape (checked by a plain render)
        again = page.render(request_, context)  # fills it

    assert first == again == expected
    assert len(renders) == 1 + 2  # ours, then the shape's two; filling renders nothing


def test_waiters_of_one_shape_get_their_own_values_from_one_shape(page, request_, renders):
    one = page.render(request_, page_context(position=3, text="You are number 3."))
    other = page.render(request_, page_context(position=977, text="You are number 977."))

    assert len(renders) == 2  # the shape, and the plain render it is checked against
    assert "You are number 3." in one and "977" not in one
    assert "You are number 977." in other and ">3<" not in other


def test_a_change_to_anything_but_a_slot_is_another_shape(page, request_, renders):
    before = page.render(request_, page_context())
    renamed = OnsaleInfo(**{**ONSALE.__dict__, "name": "Dune: Part Three, day two"})
    after = page.render(request_, page_context(onsale=renamed))
    with translation.override("fr"):
        french = page.render(request_, page_context())

    assert len(renders) == 3 * 2
    assert "day two" in after and "day two" not in before
    assert 'lang="fr"' in french


def test_a_slot_the_template_would_change_is_rendered_in_full_and_logged(
    settings, request_, caplog
):
    settings.TEMPLATES = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {
                "loaders": [
                    (
                        "django.template.loaders.locmem.Loader",
                        {"t.html": "<p>{{ name|upper }} {{ name|slice:':2' }}</p>"},
                    )
                ]
            },
        }
    ]
    shaped = ShapedTemplate("t.html", slots=("name",))

    first = shaped.render(request_, {"name": "ada"})
    second = shaped.render(request_, {"name": "grace"})

    assert (first, second) == ("<p>ADA ad</p>", "<p>GRACE gr</p>")
    assert "rendered in full" in caplog.text


def test_a_crowd_arriving_with_a_new_shape_builds_it_once(page, request_, renders):
    from concurrent.futures import ThreadPoolExecutor

    def one(position):
        with translation.override("en"):
            return page.render(request_, page_context(position=position, text=f"No. {position}"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(one, range(1, 33)))

    assert len(renders) == 2  # one shape made (and checked), 32 pages filled
    assert all(f"No. {n}" in html for n, html in zip(range(1, 33), pages, strict=True))


def test_past_the_limit_the_oldest_shape_goes_and_the_rest_stay(
    page, request_, renders, monkeypatch
):
    from ticketing.storefront import shaped

    monkeypatch.setattr(shaped, "MAX_SHAPES", 2)
    for refresh in (2, 5, 10):  # three shapes: the first is dropped for the third
        page.render(request_, page_context(refresh=refresh))
    made = len(renders)
    page.render(request_, page_context(refresh=10))  # kept
    page.render(request_, page_context(refresh=5))  # kept
    kept = len(renders)
    page.render(request_, page_context(refresh=2))  # made again

    assert (made, kept, len(renders)) == (6, 6, 8)


def test_falsy_slot_values_are_each_their_own_shape(settings, request_):
    settings.TEMPLATES = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {
                "loaders": [
                    (
                        "django.template.loaders.locmem.Loader",
                        {"t.html": "<p>{% if n is None %}none{% else %}{{ n }}{% endif %}</p>"},
                    )
                ]
            },
        }
    ]
    shaped = ShapedTemplate("t.html", slots=("n",))

    assert shaped.render(request_, {"n": None}) == "<p>none</p>"
    assert shaped.render(request_, {"n": 0}) == "<p>0</p>"
    assert shaped.render(request_, {"n": 7}) == "<p>7</p>"
