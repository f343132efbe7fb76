from __future__ import annotations

import pytest
from django.urls import reverse

from tests.audit_helpers import watch_audit
from tests.operators.factories import OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def test_the_login_page_answers_anonymous_callers(client) -> None:
    response = client.get(reverse("operators:login"))
    assert response.status_code == 200
    assert 'name="email"' in response.text and 'name="password"' in response.text


def test_an_operator_logs_in_with_email_and_password(client) -> None:
    operator = OperatorFactory(email="ops@dezky.example")
    with watch_audit() as log:
        response = client.post(
            reverse("operators:login"), {"email": "OPS@dezky.example", "password": PASSWORD}
        )
    assert response.status_code == 302
    assert response.url == reverse("console:overview")
    assert client.get("/").status_code == 200
    event = log.one("user.logged_in", actor=operator)
    assert event.metadata == {"method": "password"}
    assert event.actor_ip == "127.0.0.1"


def test_login_goes_back_to_a_safe_next_url_only(client) -> None:
    OperatorFactory(email="ops@dezky.example")
    data = {"email": "ops@dezky.example", "password": PASSWORD}
    ok = client.post(reverse("operators:login") + "?next=/flags/", data)
    assert ok.url == "/flags/"
    client.logout()
    evil = client.post(reverse("operators:login") + "?next=https://evil.example/", data)
    assert evil.url == reverse("console:overview")


@pytest.mark.parametrize(
    "data",
    [
        {"email": "ops@dezky.example", "password": "wrong"},
        {"email": "nobody@dezky.example", "password": PASSWORD},
    ],
)
def test_a_failed_login_says_so_and_is_audited(client, data) -> None:
    OperatorFactory(email="ops@dezky.example")
    with watch_audit() as log:
        response = client.post(reverse("operators:login"), data)
    assert response.status_code == 200
    assert "do not match an active account" in response.text
    event = log.one("user.login_failed")
    assert event.metadata == {"email": data["email"]}
    assert "password" not in str(event.metadata).lower()


def test_an_inactive_user_cannot_log_in(client) -> None:
    OperatorFactory(email="gone@dezky.example", is_active=False)
    response = client.post(
        reverse("operators:login"), {"email": "gone@dezky.example", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_malformed_login_names_the_field(client) -> None:
    response = client.post(reverse("operators:login"), {"email": "not-an-email", "password": ""})
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"email", "password"}


def test_logout_needs_a_post_and_is_audited(client) -> None:
    operator = OperatorFactory()
    client.force_login(operator)
    confirm = client.get(reverse("operators:logout"))
    assert confirm.status_code == 200
    assert "_auth_user_id" in client.session
    with watch_audit() as log:
        response = client.post(reverse("operators:logout"))
    assert response.url == reverse("operators:login")
    assert "_auth_user_id" not in client.session
    log.one("user.logged_out", actor=operator)


def test_a_non_operator_can_log_in_but_gets_the_403_page(client) -> None:
    UserFactory(email="member@tenant.example")
    client.post(
        reverse("operators:login"), {"email": "member@tenant.example", "password": PASSWORD}
    )
    response = client.get("/")
    assert response.status_code == 403
    assert "not a platform operator" in response.text


def test_an_expired_temporary_password_is_refused_and_audited(client) -> None:
    from datetime import timedelta

    from django.utils import timezone

    OperatorFactory(
        email="pat.rivera@northwind.example",
        password_expires_at=timezone.now() - timedelta(minutes=1),
    )
    with watch_audit() as log:
        response = client.post(
            reverse("operators:login"),
            {"email": "pat.rivera@northwind.example", "password": PASSWORD},
        )
    assert response.status_code == 403
    assert "This temporary password has expired. Ask an operator for a new invite." in response.text
    assert "_auth_user_id" not in client.session
    event = log.one("user.login_failed")
    assert event.metadata == {
        "email": "pat.rivera@northwind.example",
        "reason": "temporary password expired",
    }


def test_an_expired_temporary_password_says_nothing_to_a_wrong_password(client) -> None:
    from datetime import timedelta

    from django.utils import timezone

    OperatorFactory(
        email="pat.rivera@northwind.example",
        password_expires_at=timezone.now() - timedelta(minutes=1),
    )
    response = client.post(
        reverse("operators:login"), {"email": "pat.rivera@northwind.example", "password": "wrong"}
    )
    assert response.status_code == 200
    assert "temporary password" not in response.text
    assert "do not match an active account" in response.text


def test_a_temporary_password_not_yet_expired_signs_in(client) -> None:
    from datetime import timedelta

    from django.utils import timezone

    OperatorFactory(
        email="pat.rivera@northwind.example",
        password_expires_at=timezone.now() + timedelta(hours=1),
    )
    response = client.post(
        reverse("operators:login"),
        {"email": "pat.rivera@northwind.example", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session
