"""Who may scan: a scanner's key (scope `checkin`, bound to one cinema), or a staff member
signed in with both factors whose role checks tickets in (session and CSRF). Nobody else."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from tests.api.support import assert_error
from tests.staff.support import staff_user
from ticketing import errors
from ticketing.audit.models import AuditEntry
from ticketing.checkin.models import CheckIn
from ticketing.partners.models import ApiKey, PartnerKind, Scope
from ticketing.partners.services import api_key_create, api_key_revoke, house_partner
from ticketing.staff import roles

from .support import Lobby, admissions, scan

pytestmark = pytest.mark.django_db


@pytest.fixture
def lobby():
    return Lobby()


def test_without_credentials_it_is_401(lobby):
    assert_error(scan(APIClient(), "x"), 401, "unauthenticated")
    assert_error(APIClient().get("/api/v1/checkins/keys/"), 401, "unauthenticated")


def test_a_partners_key_without_the_checkin_scope_is_403_scope_required(lobby, api):
    ticket = lobby.ticket()
    details = assert_error(scan(api, lobby.qr(ticket)), 403, "scope_required")
    assert details == {"scope": "checkin"}
    assert_error(api.get("/api/v1/checkins/keys/"), 403, "scope_required")
    assert admissions(ticket) == 0


def test_a_scanner_key_does_nothing_but_check_in(lobby):
    door = lobby.scanner()
    response = door.post("/api/v1/holds/", {"screening": lobby.screening.pk, "quantity": 1})
    assert_error(response, 403, "scope_required")
    assert_error(door.get("/api/v1/reports/sales/"), 403, "scope_required")


def test_the_checkin_scope_goes_only_with_a_cinema_and_alone(lobby):
    partner = house_partner()
    with pytest.raises(errors.InvalidRequest):
        api_key_create(partner=partner, scopes=[Scope.CHECKIN])
    with pytest.raises(errors.InvalidRequest):
        api_key_create(
            partner=partner, scopes=[Scope.CHECKIN, Scope.BOOK], cinema_id=lobby.cinema.pk
        )
    with pytest.raises(errors.InvalidRequest):
        api_key_create(partner=partner, scopes=[Scope.READ], cinema_id=lobby.cinema.pk)


def test_a_revoked_scanner_key_is_refused_at_once(lobby):
    door = lobby.scanner("Lost phone")
    assert door.get("/api/v1/checkins/keys/").status_code == 200
    api_key_revoke(key=ApiKey.objects.get(name="Lost phone"))
    assert_error(door.get("/api/v1/checkins/keys/"), 401, "unauthenticated")


def test_a_box_office_member_signed_in_checks_in_with_the_session_and_csrf(lobby):
    ticket = lobby.ticket()
    clerk = lobby.staff(roles.BOX_OFFICE, csrf=True)
    without_token = scan(clerk, lobby.qr(ticket))
    assert_error(without_token, 403, "forbidden")
    assert "CSRF" in without_token.json()["error"]["message"]
    assert admissions(ticket) == 0

    clerk.get("/staff/door/")  # the page sets the CSRF cookie, as the browser's door page does
    token = clerk.cookies["csrftoken"].value
    response = clerk.post(
        "/api/v1/checkins/", {"code": lobby.qr(ticket)}, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 200, response.content
    admission = CheckIn.objects.get(ticket=ticket)
    assert admission.user is not None and admission.device is None
    assert response.json()["door"] == admission.user.username


def test_a_staff_member_sees_only_their_cinemas_tickets(lobby):
    elsewhere = Lobby()
    ticket = elsewhere.ticket()
    assert_error(scan(lobby.staff(), elsewhere.qr(ticket)), 404, "ticket_unknown")
    head_office = APIClient()
    from tests.staff.support import signed_in

    signed_in(head_office, staff_user(roles.BOX_OFFICE, all_cinemas=True))
    assert scan(head_office, elsewhere.qr(ticket)).status_code == 200


def test_a_role_without_check_in_or_a_missing_second_factor_is_403(lobby):
    ticket = lobby.ticket()
    partners_manager = lobby.staff(roles.PARTNER_MANAGER)
    assert_error(scan(partners_manager, lobby.qr(ticket)), 403, "forbidden")
    password_only = APIClient()
    password_only.force_login(staff_user(roles.BOX_OFFICE, lobby.cinema))
    assert_error(scan(password_only, lobby.qr(ticket)), 403, "forbidden")
    buyer = APIClient()
    buyer.force_login(_buyer())
    assert_error(scan(buyer, lobby.qr(ticket)), 403, "forbidden")
    assert admissions(ticket) == 0


def _buyer():
    from django.contrib.auth.models import User

    return User.objects.create_user("moviegoer", password="pw-for-tests-only")


def test_create_scanner_prints_a_key_once_bound_to_the_cinema(lobby, capsys):
    call_command("create_scanner", lobby.cinema.slug, "--name", "Door 2 phone")
    out = capsys.readouterr().out.strip().splitlines()
    raw = out[-1]
    assert raw.startswith("mq_") and "Door 2 phone" in out[0]
    key = ApiKey.objects.get(name="Door 2 phone")
    assert (key.cinema_id, key.scopes, key.rate_per_minute) == (lobby.cinema.pk, ["checkin"], 600)
    assert key.partner.kind == PartnerKind.HOUSE
    assert raw not in str(ApiKey.objects.values_list())  # only its hash is kept
    assert AuditEntry.objects.filter(action="scanner.created", cinema=lobby.cinema).exists()

    door = APIClient()
    door.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    ticket = lobby.ticket()
    assert scan(door, lobby.qr(ticket)).json()["door"] == "Door 2 phone"


def test_create_scanner_names_the_cinema_by_slug_id_or_name_and_refuses_others(lobby):
    call_command("create_scanner", str(lobby.cinema.pk))
    call_command("create_scanner", lobby.cinema.name, "--rate-per-minute", "120")
    assert ApiKey.objects.filter(cinema=lobby.cinema).count() == 2
    assert ApiKey.objects.filter(rate_per_minute=120).exists()
    with pytest.raises(CommandError, match="no cinema"):
        call_command("create_scanner", "nowhere")
    with pytest.raises(CommandError, match="at least 1"):
        call_command("create_scanner", lobby.cinema.slug, "--rate-per-minute", "0")


def test_scanner_keys_are_throttled_per_key(lobby, settings):
    door = lobby.scanner()
    ApiKey.objects.filter(cinema=lobby.cinema).update(rate_per_minute=2)
    from ticketing.partners.services import forget_cached_keys

    forget_cached_keys()
    codes = [door.get("/api/v1/checkins/keys/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
