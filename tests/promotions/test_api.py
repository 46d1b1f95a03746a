"""The campaign endpoints of the partner API (issue 10): a studio or a platform manages its own
campaigns and their codes (JSON or CSV), never another partner's (404 as if it did not exist),
only with the `campaigns` scope (403), and bad input is a 400 with a precise code, never a 500."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from promotions.codes import ALPHABET, MAX_BATCH, code_create
from promotions.models import Campaign, PromoCode
from tests import factories
from tests.api.support import assert_error
from tests.promotions.support import place
from ticketing.partners.models import PartnerKind
from ticketing.partners.services import partner_create

pytestmark = pytest.mark.django_db
_names = itertools.count(1)
CAMPAIGNS = "/api/v1/campaigns/"


def client_for(kind: str = PartnerKind.STUDIO, scopes=("read", "campaigns")) -> APIClient:
    partner, raw = partner_create(name=f"{kind} {next(_names)}", kind=kind, scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.partner = partner
    return client


@pytest.fixture
def studio():
    return client_for(PartnerKind.STUDIO)


@pytest.fixture
def platform():
    return client_for(PartnerKind.PLATFORM)


@pytest.fixture
def rival():
    """Another studio with the same scopes: it must never see the first one's campaigns."""
    return client_for(PartnerKind.STUDIO)


def campaign_body(**fields) -> dict:
    """What a campaign needs: a name, dates around now, a currency and a budget."""
    now = timezone.now()
    return {
        "name": "Rogue Nation opening",
        "starts_at": (now - timedelta(days=1)).isoformat(),
        "ends_at": (now + timedelta(days=30)).isoformat(),
        "currency": "EUR",
        "budget": 100_000,
        **fields,
    }


def new_campaign(client, **fields) -> dict:
    response = client.post(CAMPAIGNS, campaign_body(**fields), format="json")
    assert response.status_code == 201, response.content[:500]
    return response.json()


def codes_path(campaign: dict | int) -> str:
    pk = campaign["id"] if isinstance(campaign, dict) else campaign
    return f"{CAMPAIGNS}{pk}/codes/"


def generate(client, campaign, **body):
    body.setdefault("kind", "percent")
    body.setdefault("value", 20)
    return client.post(codes_path(campaign), body, format="json")


def read_csv(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv"), response["Content-Type"]
    return list(csv.DictReader(io.StringIO(response.content.decode())))


# ---- campaigns -------------------------------------------------------------------------------
def test_a_studio_creates_a_campaign_it_funds_with_a_platform_of_its_choice(studio, platform):
    film = factories.film()

    made = new_campaign(studio, platform=platform.partner.pk, films=[film.pk], currency="eur")

    assert (made["studio"], made["platform"]) == (studio.partner.pk, platform.partner.pk)
    assert (made["funder"], made["currency"], made["films"]) == ("studio", "EUR", [film.pk])
    assert (made["budget"], made["spent"], made["budget_left"]) == (100_000, 0, 100_000)
    assert made["banner"] == {"title": "", "text": "", "image": None, "link": ""}
    assert Campaign.objects.get(pk=made["id"]).studio == studio.partner


def test_a_platform_creates_a_campaign_naming_its_studio_and_funds_it_itself(studio, platform):
    made = new_campaign(platform, studio=studio.partner.pk, banner_title="Opening night")

    assert (made["studio"], made["platform"], made["funder"]) == (
        studio.partner.pk,
        platform.partner.pk,
        "platform",
    )
    # Both partners of the campaign see it.
    assert studio.get(f"{CAMPAIGNS}{made['id']}/").json()["banner"]["title"] == "Opening night"


def test_a_partner_lists_only_the_campaigns_it_is_the_studio_or_the_platform_of(
    studio, platform, rival
):
    own = new_campaign(studio, name="Own")
    shared = new_campaign(platform, studio=studio.partner.pk, name="Shared")
    new_campaign(rival, name="Rival's")

    listed = studio.get(CAMPAIGNS).json()
    assert {c["name"] for c in listed["results"]} == {"Own", "Shared"}
    assert listed["count"] == 2
    assert [c["id"] for c in platform.get(CAMPAIGNS).json()["results"]] == [shared["id"]]
    assert own["id"] not in {c["id"] for c in rival.get(CAMPAIGNS).json()["results"]}


def test_another_partners_campaign_answers_404_everywhere_and_stays_as_it_was(studio, rival):
    theirs = new_campaign(rival, name="Rival's")
    code_create(
        campaign=Campaign.objects.get(pk=theirs["id"]), code="RIVAL", kind="percent", value=10
    )
    path = f"{CAMPAIGNS}{theirs['id']}/"

    assert_error(studio.get(path), 404, "campaign_not_found")
    assert_error(studio.patch(path, {"name": "Mine now"}, format="json"), 404, "campaign_not_found")
    assert_error(studio.get(codes_path(theirs)), 404, "campaign_not_found")
    assert_error(studio.get(codes_path(theirs), HTTP_ACCEPT="text/csv"), 404, "campaign_not_found")
    assert_error(generate(studio, theirs, count=5), 404, "campaign_not_found")
    assert_error(generate(studio, theirs, code="MINE"), 404, "campaign_not_found")

    assert Campaign.objects.get(pk=theirs["id"]).name == "Rival's"
    assert list(PromoCode.objects.values_list("code", flat=True)) == ["RIVAL"]


@pytest.mark.parametrize("pk", ["999999", str(2**70)])
def test_an_unknown_or_absurd_campaign_id_is_404_not_a_server_error(studio, pk):
    assert_error(studio.get(f"{CAMPAIGNS}{pk}/"), 404, "campaign_not_found")
    assert_error(generate(studio, int(pk), count=1), 404, "campaign_not_found")


def test_a_key_without_the_campaigns_scope_is_refused_on_every_endpoint(studio):
    made = new_campaign(studio)
    booker = client_for(PartnerKind.STUDIO, scopes=("read", "book"))
    # Its own campaign, so the refusal is about the scope, not the owner.
    Campaign.objects.filter(pk=made["id"]).update(studio=booker.partner)
    answers = [
        booker.get(CAMPAIGNS),
        booker.post(CAMPAIGNS, {}, format="json"),
        booker.get(f"{CAMPAIGNS}{made['id']}/"),
        booker.patch(f"{CAMPAIGNS}{made['id']}/", {"name": "x"}, format="json"),
        booker.get(codes_path(made)),
        generate(booker, made, count=1),
    ]
    for response in answers:
        assert response.status_code == 403, response.content[:300]
        assert response.json()["error"]["code"] in {"forbidden", "scope_required"}
        assert "campaigns" in response.json()["error"]["message"]
    assert not PromoCode.objects.exists()


def test_a_signed_in_browser_session_may_not_manage_campaigns():
    client = APIClient()
    client.force_login(get_user_model().objects.create_user("ada", password="x"))
    response = client.get(CAMPAIGNS)
    assert response.status_code == 403
    assert "campaigns" in response.json()["error"]["message"]


def test_without_a_key_the_campaigns_are_401(anon_api):
    assert_error(anon_api.get(CAMPAIGNS), 401, "unauthenticated")


def test_patch_changes_only_what_is_sent_and_films_replace_the_list(studio, platform):
    first, second = factories.film(), factories.film()
    made = new_campaign(studio, platform=platform.partner.pk, films=[first.pk])

    response = studio.patch(
        f"{CAMPAIGNS}{made['id']}/",
        {"films": [second.pk], "banner_text": "Two for one", "budget": 50_000},
        format="json",
    )

    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert (body["films"], body["banner"]["text"], body["budget"]) == (
        [second.pk],
        "Two for one",
        50_000,
    )
    assert (body["name"], body["platform"]) == (made["name"], platform.partner.pk)


def test_the_budget_never_goes_below_what_the_campaign_has_given(studio):
    made = new_campaign(studio)
    Campaign.objects.filter(pk=made["id"]).update(spent=30_000)

    response = studio.patch(f"{CAMPAIGNS}{made['id']}/", {"budget": 29_999}, format="json")

    details = assert_error(response, 400, "campaign_budget_below_spent")
    assert details == {"budget": 29_999, "spent": 30_000}
    assert Campaign.objects.get(pk=made["id"]).budget == 100_000
    ok = studio.patch(f"{CAMPAIGNS}{made['id']}/", {"budget": 30_000}, format="json")
    assert ok.json()["budget_left"] == 0


def test_only_the_partner_funding_the_discounts_changes_the_budget(studio, platform):
    made = new_campaign(studio, platform=platform.partner.pk)
    path = f"{CAMPAIGNS}{made['id']}/"

    assert_error(
        platform.patch(path, {"budget": 10**9}, format="json"), 400, "campaign_budget_funder_only"
    )
    link = platform.patch(path, {"banner_link": "https://example.com/mi"}, format="json")
    assert link.status_code == 200
    assert studio.patch(path, {"budget": 200_000}, format="json").json()["budget"] == 200_000


def test_the_currency_stays_once_a_code_of_the_campaign_was_used(screening):
    studio = client_for(PartnerKind.STUDIO)
    made = new_campaign(studio, films=[screening.film_id])
    code_create(campaign=Campaign.objects.get(pk=made["id"]), code="MI5", kind="percent", value=10)
    place(screening, "A1", promo="MI5")

    response = studio.patch(f"{CAMPAIGNS}{made['id']}/", {"currency": "GBP"}, format="json")

    assert_error(response, 400, "campaign_currency_locked")
    assert Campaign.objects.get(pk=made["id"]).currency == "EUR"


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"ends_at": "2020-01-01T00:00:00Z"}, "campaign_dates_invalid", None),
        ({"films": [987654]}, "invalid", "films"),
        ({"films": [2**70]}, "invalid", "films"),
        ({"budget": -1}, "invalid", "budget"),
        ({"budget": 2**40}, "invalid", "budget"),
        ({"currency": "EURO"}, "invalid", "currency"),
        ({"starts_at": "tomorrow"}, "invalid", "starts_at"),
        ({"banner_link": "javascript:alert(1)"}, "invalid", "banner_link"),
        ({"name": ""}, "invalid", "name"),
        ({"platform": 987654}, "campaign_partner_invalid", None),
    ],
)
def test_bad_campaign_input_is_400_with_a_precise_code(studio, fields, code, field):
    body = campaign_body(**fields)
    details = assert_error(studio.post(CAMPAIGNS, body, format="json"), 400, code)
    if field:
        assert field in details
    assert not Campaign.objects.exists()


def test_a_campaign_names_partners_of_the_right_kind(studio, platform):
    other_studio = client_for(PartnerKind.STUDIO)
    body = campaign_body()
    # A studio's platform must be a platform; a platform must name a studio, which it is not.
    as_platform = {**body, "platform": other_studio.partner.pk}
    assert_error(
        studio.post(CAMPAIGNS, as_platform, format="json"), 400, "campaign_partner_invalid"
    )
    assert_error(platform.post(CAMPAIGNS, body, format="json"), 400, "campaign_partner_invalid")
    not_a_studio = {**body, "studio": client_for(PartnerKind.PLATFORM).partner.pk}
    assert_error(
        platform.post(CAMPAIGNS, not_a_studio, format="json"), 400, "campaign_partner_invalid"
    )
    assert not Campaign.objects.exists()


# ---- codes -----------------------------------------------------------------------------------
def test_generated_codes_come_back_as_json_single_use_unless_told(studio):
    made = new_campaign(studio)

    response = generate(studio, made, count=25, prefix="mi5", kind="percent", value=50)

    assert response.status_code == 201, response.content[:300]
    body = response.json()
    assert (body["campaign"], body["count"], len(body["codes"])) == (made["id"], 25, 25)
    texts = [c["code"] for c in body["codes"]]
    assert len(set(texts)) == 25
    assert all(t.startswith("MI5") and set(t[3:]) <= set(ALPHABET) for t in texts)
    assert {(c["kind"], c["value"], c["max_uses"], c["uses"]) for c in body["codes"]} == {
        ("percent", 50, 1, 0)
    }
    assert PromoCode.objects.filter(campaign_id=made["id"]).count() == 25


def test_generated_codes_come_as_a_csv_download_with_accept_text_csv(studio):
    made = new_campaign(studio)

    response = studio.post(
        codes_path(made),
        {"count": 40, "kind": "amount", "value": 300, "max_uses": 2},
        format="json",
        HTTP_ACCEPT="text/csv",
    )

    assert response.status_code == 201
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert len(rows) == 40
    assert set(rows[0]) >= {"code", "kind", "value", "max_uses", "uses", "valid_until"}
    assert {(r["kind"], r["value"], r["max_uses"], r["uses"]) for r in rows} == {
        ("amount", "300", "2", "0")
    }
    assert {r["code"] for r in rows} == set(
        PromoCode.objects.filter(campaign_id=made["id"]).values_list("code", flat=True)
    )


def test_generated_codes_share_their_targeting_and_it_holds_at_order_time(studio, screening):
    made = new_campaign(studio, films=[screening.film_id])

    response = generate(
        studio,
        made,
        count=3,
        films=[screening.film_id],
        cinemas=[screening.auditorium.cinema_id],
        ticket_types=["child"],
        weekdays=[1, 2, 3, 4, 5, 6, 7],
        starts_before="23:59",
    )

    assert response.status_code == 201, response.content[:300]
    for row in response.json()["codes"]:
        assert (row["films"], row["cinemas"], row["ticket_types"]) == (
            [screening.film_id],
            [screening.auditorium.cinema_id],
            ["child"],
        )
    first = response.json()["codes"][0]["code"]
    from ticketing import errors

    with pytest.raises(errors.PromoNotApplicable):  # adult tickets: not for this code
        place(screening, "A1", promo=first)


def test_a_chosen_code_is_made_once_and_again_is_promo_code_taken(studio, rival):
    made = new_campaign(studio)
    theirs = new_campaign(rival)

    first = generate(studio, made, code="mat-inee", kind="set_price", value=700, weekdays=[1, 2])
    assert first.status_code == 201, first.content[:300]
    code = first.json()["codes"][0]
    assert (code["code"], code["max_uses"], code["weekdays"]) == ("MATINEE", None, [1, 2])

    assert_error(generate(studio, made, code="Matinee"), 400, "promo_code_taken")
    # Codes are unique across campaigns: another partner learns only that the text is taken.
    assert_error(generate(rival, theirs, code="MATINEE"), 400, "promo_code_taken")
    assert PromoCode.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"count": 0}, "count"),
        ({"count": MAX_BATCH + 1}, "count"),
        ({}, "count"),
        ({"count": 1, "code": "BOTH"}, "count"),
        ({"code": "MI5", "prefix": "X"}, "prefix"),
        ({"count": 1, "prefix": "MI5!"}, "prefix"),
        ({"count": 1, "prefix": "P" * 40}, "prefix"),
        ({"code": "!!!"}, "code"),
        ({"code": "X" * 41}, "code"),
        ({"count": 1, "kind": "percent", "value": 150}, "value"),
        ({"count": 1, "kind": "percent", "value": 0}, "value"),
        ({"count": 1, "kind": "free"}, "kind"),
        ({"count": 1, "value": -5}, "value"),
        ({"count": 1, "value": 2**40}, "value"),
        ({"count": 1, "weekdays": [8]}, "weekdays"),
        ({"count": 1, "cinemas": [987654]}, "cinemas"),
        ({"count": 1, "screenings": [987654]}, "screenings"),
        ({"count": 1, "max_uses": -1}, "max_uses"),
        ({"count": 1, "min_tickets": 3, "max_tickets": 2}, "max_tickets"),
        ({"count": 1, "starts_after": "25:00"}, "starts_after"),
        (
            {"count": 1, "valid_from": "2030-01-02T00:00:00Z", "valid_until": "2030-01-01T00:00Z"},
            "valid_until",
        ),
    ],
)
def test_bad_code_input_is_400_naming_the_field_and_makes_no_code(studio, body, field):
    made = new_campaign(studio)
    body = {"kind": "percent", "value": 10, **body}

    details = assert_error(studio.post(codes_path(made), body, format="json"), 400, "invalid")

    assert field in details or details.get("field") == field, details
    assert not PromoCode.objects.exists()


def test_codes_target_only_the_campaigns_films(studio, screening):
    made = new_campaign(studio, films=[screening.film_id])
    elsewhere = factories.screening(
        screening.auditorium, starts_in=timedelta(days=3), film=factories.film()
    )

    assert "films" in assert_error(
        generate(studio, made, count=1, films=[elsewhere.film_id]), 400, "invalid"
    )
    assert "screenings" in assert_error(
        generate(studio, made, count=1, screenings=[elsewhere.pk]), 400, "invalid"
    )


def test_a_non_json_body_is_refused_in_the_error_shape(studio):
    made = new_campaign(studio)
    response = studio.post(codes_path(made), "{not json", content_type="application/json")
    assert_error(response, 400, "malformed_json")


def test_a_refusal_asked_for_as_csv_still_answers_json_in_the_error_shape(studio):
    made = new_campaign(studio)
    response = studio.post(
        codes_path(made),
        {"count": 0, "kind": "percent", "value": 5},
        format="json",
        HTTP_ACCEPT="text/csv",
    )
    assert_error(response, 400, "invalid")


def test_the_codes_list_is_paged_with_uses_and_exports_every_code_as_csv(studio, screening):
    made = new_campaign(studio, films=[screening.film_id])
    generate(studio, made, count=60, value=25)
    generate(studio, made, code="MI5", value=25)
    place(screening, "A1", promo="MI5")

    first = studio.get(codes_path(made))
    assert first.status_code == 200
    page = first.json()
    assert (page["count"], len(page["results"])) == (61, 50)
    second = studio.get(page["next"]).json()["results"]
    assert {c["code"]: c["uses"] for c in second}["MI5"] == 1

    export = studio.get(codes_path(made), HTTP_ACCEPT="text/csv")
    rows = read_csv(export)
    assert len(rows) == 61
    assert {r["code"]: r["uses"] for r in rows}["MI5"] == "1"
    assert read_csv(studio.get(codes_path(made) + "?format=csv")) == rows


def test_a_page_of_codes_costs_the_same_queries_for_5_codes_and_for_200(studio):
    counts = []
    for n in (5, 200):
        made = new_campaign(studio)
        generate(studio, made, count=n, films=[], weekdays=[6, 7])
        with CaptureQueriesContext(connection) as ctx:
            assert studio.get(codes_path(made)).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_a_retried_generation_with_the_same_idempotency_key_makes_the_codes_once(studio):
    made = new_campaign(studio)
    body = {"count": 10, "kind": "percent", "value": 10}

    first = studio.post(codes_path(made), body, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    again = studio.post(codes_path(made), body, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert PromoCode.objects.count() == 10


def test_a_retried_campaign_creation_makes_one_campaign(studio):
    body = campaign_body(name="Once")
    for _ in range(2):
        assert (
            studio.post(CAMPAIGNS, body, format="json", HTTP_IDEMPOTENCY_KEY="c-1").status_code
            == 201
        )
    assert Campaign.objects.count() == 1
