"""Staff pages of promotions (issue 10): campaigns with their films, budget spent and left and
a banner image that is really served; codes filtered by campaign and found however typed;
thousands generated at once as a CSV download; redemptions read only. Every write goes through
the promotions services, so a form refuses what the API refuses."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from promotions.codes import codes_generate
from promotions.models import Campaign, PromoCode, Redemption
from tests.promotions.support import campaign, code, place
from ticketing.partners.models import PartnerKind
from ticketing.partners.services import partner_create

pytestmark = pytest.mark.django_db
ADMIN = "/admin/promotions"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png(name: str = "banner.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (8, 4), (138, 28, 28)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def form_dates(**kw) -> dict:
    now = timezone.localtime()
    fields = {
        "starts_at_0": now.strftime("%Y-%m-%d"),
        "starts_at_1": "00:00:00",
        "ends_at_0": (now + timedelta(days=30)).strftime("%Y-%m-%d"),
        "ends_at_1": "00:00:00",
    }
    fields.update(kw)
    return fields


def campaign_form(studio, film, **kw) -> dict:
    return {
        "name": "Rogue Nation opening",
        "studio": studio.pk,
        "funder": "studio",
        "films": [film.pk],
        "currency": "EUR",
        "budget": 150_000,
        "banner_title": "Mission: Impossible - Rogue Nation",
        "banner_text": "Half price on opening weekend.",
        "banner_link": "",
        **form_dates(),
        **kw,
    }


def read_csv(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv"), response["Content-Type"]
    assert "attachment" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode())))


# ---- campaigns -------------------------------------------------------------------------------
def test_staff_create_a_campaign_with_films_and_a_banner_image_that_is_served(
    admin_client, screening
):
    studio, _ = partner_create(name="Paramount", kind=PartnerKind.STUDIO)

    response = admin_client.post(
        f"{ADMIN}/campaign/add/",
        {**campaign_form(studio, screening.film), "banner_image": png()},
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    made = Campaign.objects.get()
    assert (made.studio, list(made.films.all()), made.budget) == (
        studio,
        [screening.film],
        150_000,
    )
    assert made.banner_image.name.startswith("campaigns/banner")
    served = admin_client.get(made.banner_image.url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")


def test_the_campaign_list_shows_budget_spent_and_left(admin_client, screening):
    code(screening, "MI5", value=50, campaign_kw={"budget": 10_000})
    place(screening, "A1", promo="MI5")

    page = admin_client.get(f"{ADMIN}/campaign/").content.decode()

    assert "€100.00" in page  # the budget
    assert "€6.00" in page  # spent: half of one 12.00 ticket
    assert "€94.00" in page  # left


def test_the_campaign_list_costs_the_same_queries_with_more_campaigns(admin_client, screening):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(f"{ADMIN}/campaign/").status_code == 200
        return len(ctx.captured_queries)

    campaign(screening)
    admin_client.get(f"{ADMIN}/campaign/")
    few = count()
    for _ in range(5):
        codes_generate(campaign=campaign(screening), count=3, kind="percent", value=5)
    assert count() == few


def test_a_budget_below_what_was_given_is_refused_on_the_form_and_nothing_changes(
    admin_client, screening
):
    code(screening, "MI5", value=50, campaign_kw={"budget": 10_000})
    place(screening, "A1", promo="MI5")
    made = Campaign.objects.get()

    response = admin_client.post(
        f"{ADMIN}/campaign/{made.pk}/change/",
        campaign_form(made.studio, screening.film, budget=500),
    )

    assert response.status_code == 200
    assert "already given" in response.content.decode()
    assert Campaign.objects.get().budget == 10_000


def test_a_campaign_ending_before_it_starts_is_refused_beside_the_dates(admin_client, screening):
    studio, _ = partner_create(name="Studio", kind=PartnerKind.STUDIO)
    fields = campaign_form(studio, screening.film, ends_at_0="2020-01-01")

    response = admin_client.post(f"{ADMIN}/campaign/add/", fields)

    assert response.status_code == 200
    assert not Campaign.objects.exists()


def test_staff_edit_a_campaign_without_touching_what_it_has_spent(admin_client, screening):
    code(screening, "MI5", value=50, campaign_kw={"budget": 10_000})
    made = Campaign.objects.get()
    page = admin_client.get(f"{ADMIN}/campaign/{made.pk}/change/")
    assert page.status_code == 200
    Campaign.objects.filter(pk=made.pk).update(spent=1200)  # a sale while the form was open

    response = admin_client.post(
        f"{ADMIN}/campaign/{made.pk}/change/",
        campaign_form(made.studio, screening.film, budget=20_000, banner_title="New"),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    after = Campaign.objects.get()
    assert (after.budget, after.spent, after.banner_title) == (20_000, 1200, "New")


def test_campaigns_and_codes_cannot_be_deleted_and_redemptions_are_read_only(
    admin_client, screening
):
    made = code(screening, "MI5")
    order = place(screening, "A1", promo="MI5")
    redemption = Redemption.objects.get(order=order)

    assert admin_client.get(f"{ADMIN}/campaign/{made.campaign_id}/delete/").status_code == 403
    assert admin_client.get(f"{ADMIN}/promocode/{made.pk}/delete/").status_code == 403
    assert admin_client.get(f"{ADMIN}/redemption/add/").status_code == 403
    page = admin_client.get(f"{ADMIN}/redemption/{redemption.pk}/change/")
    assert page.status_code == 200
    assert b'name="discount"' not in page.content
    listing = admin_client.get(f"{ADMIN}/redemption/?q={order.code}").content.decode()
    assert "MI5" in listing and "€6.00" in listing


# ---- codes -----------------------------------------------------------------------------------
def test_staff_generate_codes_and_download_them_as_csv(admin_client, screening):
    made = campaign(screening)
    page = admin_client.get(f"{ADMIN}/campaign/{made.pk}/generate/")
    assert page.status_code == 200

    response = admin_client.post(
        f"{ADMIN}/campaign/{made.pk}/generate/",
        {
            "count": 300,
            "prefix": "mi5",
            "kind": "percent",
            "value": 50,
            "max_uses": 1,
            "min_tickets": 1,
            "weekdays": ["1", "2", "3", "4", "5"],
            "ticket_types": "adult, student",
            "films": [screening.film_id],
        },
    )

    rows = read_csv(response)
    assert len(rows) == 300
    assert all(r["code"].startswith("MI5") and r["max_uses"] == "1" for r in rows)
    stored = PromoCode.objects.filter(campaign=made)
    assert stored.count() == 300
    one = stored.first()
    assert (one.weekdays, one.ticket_types) == ([1, 2, 3, 4, 5], ["adult", "student"])
    assert list(one.films.all()) == [screening.film]


def test_generating_codes_with_a_percent_past_100_is_refused_on_the_form(admin_client, screening):
    made = campaign(screening)

    response = admin_client.post(
        f"{ADMIN}/campaign/{made.pk}/generate/",
        {"count": 5, "kind": "percent", "value": 150, "max_uses": 1, "min_tickets": 1},
    )

    assert response.status_code == 200
    assert "1 to 100" in response.content.decode()
    assert not PromoCode.objects.exists()


def test_a_campaigns_codes_download_as_csv_with_their_uses(admin_client, screening):
    made = code(screening, "MI5", value=10)
    codes_generate(campaign=made.campaign, count=4, kind="percent", value=10)
    place(screening, "A1", promo="MI5")

    rows = read_csv(admin_client.get(f"{ADMIN}/campaign/{made.campaign_id}/codes.csv"))

    assert len(rows) == 5
    assert {r["code"]: r["uses"] for r in rows}["MI5"] == "1"
    picked = admin_client.post(
        f"{ADMIN}/campaign/",
        {"action": "download_codes", "_selected_action": [made.campaign_id]},
    )
    assert len(read_csv(picked)) == 5


def test_codes_are_filtered_by_campaign_and_found_however_typed(admin_client, screening):
    mine = code(screening, "MI5ROGUE")
    other = code(screening, "FALLOUT")

    listing = admin_client.get(
        f"{ADMIN}/promocode/?campaign__id__exact={mine.campaign_id}"
    ).content.decode()
    assert "MI5ROGUE" in listing and "FALLOUT" not in listing
    found = admin_client.get(f"{ADMIN}/promocode/?q=mi5-rogue").content.decode()
    assert "MI5ROGUE" in found and "FALLOUT" not in found
    assert other.campaign_id != mine.campaign_id


def test_staff_add_a_chosen_code_stored_as_it_is_accepted(admin_client, screening):
    made = campaign(screening)
    fields = {
        "campaign": made.pk,
        "code": "matinee-2",
        "kind": "set_price",
        "value": 700,
        "min_tickets": 1,
        "starts_before": "17:00",
    }

    assert admin_client.post(f"{ADMIN}/promocode/add/", fields).status_code == 302
    assert PromoCode.objects.get().code == "MATINEE2"
    again = admin_client.post(f"{ADMIN}/promocode/add/", {**fields, "code": "Matinee 2"})
    assert again.status_code == 200
    assert "exists already" in again.content.decode()
    assert PromoCode.objects.count() == 1


def test_a_codes_uses_are_read_only_and_max_uses_never_goes_below_them(admin_client, screening):
    made = code(screening, "MI5", max_uses=5)
    place(screening, "A1", promo="MI5")
    place(screening, "A2", promo="MI5", email="c@example.com", buyer="other")
    url = f"{ADMIN}/promocode/{made.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'name="uses"' not in page
    fields = {"kind": "percent", "value": 50, "min_tickets": 1}

    refused = admin_client.post(url, {**fields, "max_uses": 1})
    assert refused.status_code == 200
    assert PromoCode.objects.get().max_uses == 5

    assert admin_client.post(url, {**fields, "max_uses": 2, "value": 40}).status_code == 302
    after = PromoCode.objects.get()
    assert (after.max_uses, after.uses, after.value) == (2, 2, 40)


def test_the_promotions_pages_load(admin_client, screening):
    made = code(screening, "MI5")
    place(screening, "A1", promo="MI5")
    for page in [
        f"{ADMIN}/campaign/add/",
        f"{ADMIN}/campaign/{made.campaign_id}/change/",
        f"{ADMIN}/promocode/",
        f"{ADMIN}/promocode/add/",
        f"{ADMIN}/promocode/{made.pk}/change/",
        f"{ADMIN}/redemption/",
    ]:
        assert admin_client.get(page).status_code == 200, page


def test_the_media_url_serves_nothing_outside_the_media_folder(client, settings, tmp_path):
    (tmp_path / "secret.txt").write_text("not for the web")
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media").mkdir()
    for path in ("/media/../secret.txt", "/media/%2e%2e/secret.txt", "/media/nothing.png"):
        response = client.get(path)
        assert response.status_code in (400, 404), path
        assert b"not for the web" not in response.content


def test_the_campaign_list_links_each_campaigns_sales_report(admin_client, screening):
    from tests.promotions.support import campaign as make_campaign

    made = make_campaign(screening)
    page = admin_client.get("/admin/promotions/campaign/").content.decode()
    assert f'href="/staff/campaigns/{made.pk}/report/"' in page
