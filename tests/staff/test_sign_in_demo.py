"""The demo's staff: a manager, a box office member and a partner manager, each with a role, cinemas
and an authenticator with the published demo key, so a newcomer signs in with
`manage.py staff_totp_code`; outside development neither the key nor the password is published.
And a production process refuses to start with the second factor off."""

from __future__ import annotations

import re
from base64 import b32decode
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.security.startup import production, start
from tests.staff.codes import current_code
from ticketing.flows import demo
from ticketing.staff import access, roles
from ticketing.staff import demo as staff_demo

pytestmark = pytest.mark.django_db


def load(*args: str, debug: bool = True) -> str:
    out = StringIO()
    with override_settings(DEBUG=debug):
        call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def code_command(username: str, *, debug: bool = True) -> str:
    out = StringIO()
    with override_settings(DEBUG=debug):
        call_command("staff_totp_code", username, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def sign_in(username: str, password: str, code: str) -> Client:
    client = Client()
    client.post("/staff/login/", {"username": username, "password": password})
    client.post("/staff/login/code/", {"code": code})
    return client


def test_the_demo_has_a_member_of_each_role_with_their_cinemas():
    printed = load()
    User = get_user_model()
    for username, role in [
        ("manager", roles.MANAGER),
        ("boxoffice", roles.BOX_OFFICE),
        ("partners", roles.PARTNER_MANAGER),
    ]:
        user = User.objects.get(username=username)
        assert user.is_staff and not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert TOTPDevice.objects.get(user=user, confirmed=True).key == staff_demo.DEMO_TOTP_KEY
        assert f"user {username}:" in printed
    names = lambda u: {c.slug for c in access.cinemas_for(User.objects.get(username=u))}  # noqa: E731
    assert names("boxoffice") == {"paris-bastille"}
    assert names("manager") == {"paris-bastille", "london-southbank"}
    assert access.cinema_ids_for(User.objects.get(username="partners")) is access.ALL
    assert staff_demo.DEMO_TOTP_SECRET in printed and "staff_totp_code" in printed


def test_a_newcomer_signs_in_with_the_code_the_command_prints():
    load()
    code = code_command("boxoffice")
    assert re.fullmatch(r"\d{6}", code)
    assert code == current_code(staff_demo.DEMO_TOTP_KEY)
    client = sign_in("boxoffice", demo.STAFF_PASSWORD, code)
    assert client.get("/staff/").status_code == 200


def test_loading_again_changes_no_member_and_no_key():
    load()
    before = list(TOTPDevice.objects.order_by("pk").values_list("pk", "user_id", "key"))
    load()
    assert list(TOTPDevice.objects.order_by("pk").values_list("pk", "user_id", "key")) == before


def test_the_code_command_is_refused_with_debug_off():
    load()
    with pytest.raises(CommandError, match="DJANGO_DEBUG is off"):
        code_command("boxoffice", debug=False)


def test_the_code_command_names_a_user_without_an_authenticator():
    get_user_model().objects.create_user("newcomer", password="x", is_staff=True)
    with pytest.raises(CommandError, match="no authenticator"):
        code_command("newcomer")


def test_outside_development_members_get_keys_and_passwords_of_their_own_shown_once():
    printed = load("--force", debug=False)

    assert staff_demo.DEMO_TOTP_SECRET not in printed
    assert not TOTPDevice.objects.filter(key=staff_demo.DEMO_TOTP_KEY).exists()
    manager = get_user_model().objects.get(username="manager")
    assert not manager.check_password(demo.STAFF_PASSWORD)
    password = re.search(r"user manager: [^;]+; password (\S+) \(generated", printed)[1]
    key = re.search(r"authenticator key for manager \(shown once[^)]*\): (\S+)", printed)[1]
    device = TOTPDevice.objects.get(user=manager)
    assert b32decode(key).hex() == device.key
    assert sign_in("manager", password, current_code(device.key)).get("/staff/").status_code == 200

    again = load("--force", debug=False)
    assert key not in again and password not in again


def test_a_production_process_refuses_to_start_with_the_second_factor_off():
    done = start(production(MARQUEE_STAFF_OTP="0"))
    assert done.returncode != 0
    output = done.stderr + done.stdout
    assert "Marquee refuses to start" in output
    assert "MARQUEE_STAFF_OTP is off" in output and "local development only" in output


def test_in_development_the_second_factor_may_be_off():
    done = start({"DJANGO_DEBUG": "1", "MARQUEE_STAFF_OTP": "0"})
    assert done.returncode == 0, done.stderr[-2000:]
