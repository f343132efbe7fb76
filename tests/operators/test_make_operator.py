"""`manage.py make_operator`: the first operator's way in, against the fake Authentik
over HTTP (Authentik mode) and this database (local mode)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from operators.models import User
from tests.audit_helpers import watch_audit
from tests.operators.factories import UserFactory

pytestmark = pytest.mark.django_db


def _run(email: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("make_operator", email, stdout=out)
    return out.getvalue()


class TestAuthentikMode:
    def test_makes_the_existing_authentik_user_an_operator(self, fake_authentik) -> None:
        account = fake_authentik.add_user("pat.rivera@northwind.example", name="Pat Rivera")
        with watch_audit() as log:
            out = _run("Pat.Rivera@Northwind.example")
        (group,) = fake_authentik.groups.values()
        assert group["name"] == "dezky-platform-admins"
        assert group["users"] == [account["pk"]]
        user = User.objects.get(email="pat.rivera@northwind.example")
        assert user.platform_admin and user.is_active
        assert user.authentik_pk == account["pk"] and user.name == "Pat Rivera"
        assert not user.has_usable_password()
        event = log.one("platform.operator_granted", actor=None)
        assert event.target_id == str(user.pk)
        assert event.metadata == {
            "email": "pat.rivera@northwind.example", "directory": "authentik",
            "directory_user_pk": account["pk"], "created": True,
        }  # fmt: skip
        assert "is an operator" in out and f"pk {account['pk']}" in out
        assert fake_authentik.calls_to("POST", "/core/users/") == []  # no account made

    def test_finds_the_user_past_the_first_page_and_uses_an_existing_group(
        self, fake_authentik
    ) -> None:
        fake_authentik._create_group({"name": "dezky-platform-admins"})
        for i in range(25):
            fake_authentik.add_user(f"x{i:02d}-pat@example.test")
        account = fake_authentik.add_user("Pat@Example.test")
        _run("pat@example.test")
        (group,) = fake_authentik.groups.values()
        assert group["users"] == [account["pk"]]
        assert User.objects.get(email="pat@example.test").authentik_pk == account["pk"]

    def test_an_existing_local_user_is_updated_not_duplicated(self, fake_authentik) -> None:
        account = fake_authentik.add_user("pat@example.test")
        local = UserFactory(email="pat@example.test", platform_admin=False, name="Pat Local")
        with watch_audit() as log:
            _run("pat@example.test")
        local.refresh_from_db()
        assert local.platform_admin and local.authentik_pk == account["pk"]
        assert local.name == "Pat Local"
        assert User.objects.count() == 1
        assert log.one("platform.operator_granted", actor=None).metadata["created"] is False

    def test_running_it_twice_is_harmless(self, fake_authentik) -> None:
        fake_authentik.add_user("pat@example.test")
        _run("pat@example.test")
        _run("pat@example.test")
        (group,) = fake_authentik.groups.values()
        assert len(group["users"]) == 1 and User.objects.count() == 1

    def test_an_unknown_email_is_a_clear_error_and_writes_nothing(self, fake_authentik) -> None:
        with watch_audit() as log, pytest.raises(CommandError, match="Authentik has no user"):
            _run("nobody@example.test")
        log.none()
        assert not User.objects.exists()

    def test_several_users_with_the_email_is_a_clear_error(self, fake_authentik) -> None:
        fake_authentik.add_user("pat@example.test")
        fake_authentik.add_user("pat@example.test", username="pat-two")
        with watch_audit() as log, pytest.raises(CommandError, match="Several Authentik users"):
            _run("pat@example.test")
        log.none()
        assert fake_authentik.groups == {} or all(
            g["users"] == [] for g in fake_authentik.groups.values()
        )

    def test_a_deactivated_authentik_user_is_refused(self, fake_authentik) -> None:
        fake_authentik.add_user("pat@example.test", is_active=False)
        with pytest.raises(CommandError, match="is deactivated; activate it in Authentik"):
            _run("pat@example.test")
        assert not User.objects.exists()

    def test_an_unreachable_authentik_is_a_clear_error(self, fake_authentik, settings) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            settings.AUTHENTIK_URL = f"http://127.0.0.1:{s.getsockname()[1]}"
        with watch_audit() as log, pytest.raises(CommandError, match="cannot be reached"):
            _run("pat@example.test")
        log.none()
        assert not User.objects.exists()

    def test_a_failure_adding_to_the_group_writes_nothing(self, fake_authentik) -> None:
        fake_authentik.add_user("pat@example.test")
        fake_authentik.inject("POST", r"/add_user/$", "500")
        with watch_audit() as log, pytest.raises(CommandError, match="Authentik refused"):
            _run("pat@example.test")
        log.none()
        assert not User.objects.exists()


class TestLocalMode:
    def test_an_existing_local_user_becomes_an_operator(self) -> None:
        user = UserFactory(email="pat@example.test", platform_admin=False)
        with watch_audit() as log:
            out = _run("PAT@example.test")
        user.refresh_from_db()
        assert user.platform_admin
        event = log.one("platform.operator_granted", actor=None)
        assert event.metadata["directory"] == "local" and event.metadata["created"] is False
        assert "is an operator" in out

    def test_an_unknown_email_points_to_createsuperuser(self) -> None:
        with watch_audit() as log, pytest.raises(CommandError, match="createsuperuser"):
            _run("nobody@example.test")
        log.none()

    def test_a_bad_email_is_refused(self) -> None:
        with pytest.raises(CommandError, match="not a valid email"):
            _run("not-an-email")


def test_a_refusal_exits_with_code_1(tmp_path: Path) -> None:
    """Through manage.py itself, as an operator runs it (local mode, empty database)."""
    root = Path(__file__).resolve().parents[2]
    db = tmp_path / "empty.sqlite3"
    env = {
        "DATABASE_URL": f"sqlite:///{db}", "DJANGO_SETTINGS_MODULE": "dezky.settings",
        "PATH": "/usr/bin:/bin", "SECRET_KEY": "test-only-not-secret",
    }  # fmt: skip
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=root, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if migrate.returncode:
        pytest.skip(f"manage.py cannot run here: {migrate.stderr[-300:]}")
    done = subprocess.run(
        [sys.executable, "manage.py", "make_operator", "nobody@example.test"], cwd=root,
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "createsuperuser" in done.stderr
