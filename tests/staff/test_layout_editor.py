"""The staff seat-layout editor's pages and save endpoint: the list of one's own auditoriums, the
editor, the preview, saving (a parse error, a refusal naming the seat, a success, audited), and
the boundaries (another cinema 404, the box office 403)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.staff.support import signed_in, staff_user
from ticketing.audit.models import AuditEntry
from ticketing.screenings.layouts import layout_render
from ticketing.staff import roles

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def room(cinema):
    return factories.layout_room(cinema, "sssss\nsssss", name="Screen 1")


@pytest.fixture
def manager(client, cinema):
    return signed_in(client, staff_user(roles.MANAGER, cinema))


def save(client, room, text, **extra):
    return client.post(f"/staff/layouts/{room.pk}/", {"text": text}, **{**JSON, **extra})


def test_the_list_shows_the_auditoriums_of_ones_own_cinemas_only(manager, room):
    elsewhere = factories.layout_room(factories.cinema(), "ss", name="Far away")

    page = manager.get("/staff/layouts/")

    assert page.status_code == 200
    assert room.name in page.text and f"/staff/layouts/{room.pk}/" in page.text
    assert elsewhere.name not in page.text


def test_the_editor_page_carries_the_text_grid_and_its_script(manager, room):
    page = manager.get(f"/staff/layouts/{room.pk}/")

    assert page.status_code == 200
    assert "sssss\nsssss</textarea>" in page.text
    assert "staff-layout-editor.js" in page.text
    assert 'id="layout-config"' in page.text
    assert "<script>" not in page.text and "style=" not in page.text  # CSP: nothing inline


def test_saving_a_layout_applies_it_and_audits_who_and_what(manager, room):
    answer = save(manager, room, "sssss\nss<>s\npp")

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["text"] == "sssss\nss<>s\npp" == layout_render(room)
    assert body["plan"]["added"] == ["C1", "C2"]
    assert {"seat": "B3", "before": "standard", "after": "couple"} in body["plan"]["retyped"]
    entry = AuditEntry.objects.get(action="layout.change")
    assert entry.actor.startswith("user:") and entry.actor_name.startswith("staff")
    assert entry.cinema_id == room.cinema_id and entry.object_id == str(room.pk)
    assert entry.changes["added"] == ["C1", "C2"]


def test_a_parse_error_names_the_line_and_column_and_changes_nothing(manager, room):
    answer = save(manager, room, "sssss\nss?ss")

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "layout_invalid"
    assert any("Line 2, column 3" in message for message in error["details"]["errors"])
    assert layout_render(room) == "sssss\nsssss"


def test_an_empty_layout_is_a_parse_error(manager, room):
    answer = save(manager, room, "...\n")
    assert answer.status_code == 400 and "at least one seat" in answer.json()["error"]["message"]


def test_a_refusal_names_the_sold_seat_and_its_screening(manager, room):
    screening = factories.screening(room)
    factories.pending_order(screening, "B2")

    answer = save(manager, room, "sssss\nsxsss")

    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "layout_seats_in_use"
    [refusal] = error["details"]["refusals"]
    assert refusal["seat"] == "B2" and refusal["what"] == "blocked"
    assert screening.film.title in refusal["screenings"][0]
    assert "B2" in error["message"]
    assert layout_render(room) == "sssss\nsssss"
    assert not AuditEntry.objects.exists()


def test_the_preview_shows_the_changes_and_the_refusals_without_saving(manager, room):
    screening = factories.screening(room)
    factories.held(screening, "A1")

    answer = manager.post(f"/staff/layouts/{room.pk}/preview/", {"text": "xssss\nssss"}, **JSON)

    assert answer.status_code == 200
    plan = answer.json()["plan"]
    assert plan["removed"] == ["B5"]
    assert plan["in_use"] == ["A1"]
    assert [(r["seat"], r["what"]) for r in plan["refusals"]] == [("A1", "blocked")]
    assert layout_render(room) == "sssss\nsssss"


def test_without_javascript_the_form_saves_and_comes_back(manager, room):
    answer = manager.post(f"/staff/layouts/{room.pk}/", {"text": "sss"})

    assert answer.status_code == 302 and answer["Location"] == f"/staff/layouts/{room.pk}/"
    assert layout_render(room) == "sss"
    page = manager.get(answer["Location"])
    assert "saved" in page.text


def test_without_javascript_a_refusal_is_shown_on_the_page(manager, room):
    factories.held(factories.screening(room), "A1")

    page = manager.post(f"/staff/layouts/{room.pk}/", {"text": ".ssss\nsssss"})

    assert page.status_code == 409
    assert "A1 (its place would become an aisle or gap)" in page.text


def test_another_cinemas_auditorium_does_not_exist(manager):
    elsewhere = factories.layout_room(factories.cinema(), "ss")

    assert manager.get(f"/staff/layouts/{elsewhere.pk}/").status_code == 404
    assert save(manager, elsewhere, "s").status_code == 404
    assert manager.post(f"/staff/layouts/{elsewhere.pk}/preview/", {"text": "s"}).status_code == 404
    assert layout_render(elsewhere) == "ss"


def test_the_box_office_may_not_edit_layouts(client, cinema, room):
    signed_in(client, staff_user(roles.BOX_OFFICE, cinema))

    assert client.get("/staff/layouts/").status_code == 403
    assert client.get(f"/staff/layouts/{room.pk}/").status_code == 403
    assert save(client, room, "s").status_code == 403
    assert layout_render(room) == "sssss\nsssss"


def test_without_the_second_factor_the_editor_sends_to_the_sign_in(client, cinema, room):
    client.force_login(staff_user(roles.MANAGER, cinema))

    answer = client.get(f"/staff/layouts/{room.pk}/")

    assert answer.status_code == 302 and "/staff/login/" in answer["Location"]


def test_head_office_edits_any_cinemas_layout(client, room):
    signed_in(client, staff_user(roles.MANAGER, all_cinemas=True))

    assert save(client, room, "ss").status_code == 200
