from __future__ import annotations

import pytest

from operators.models import User
from tests.operators.factories import OperatorFactory, UserFactory
from tests.operators.factories_tokens import make_token

pytestmark = pytest.mark.django_db
INVITE = "/api/users/invite/"


def _post(client, body, **headers):
    return client.post(INVITE, body, content_type="application/json", headers=headers)


@pytest.fixture
def ops(client):
    client.force_login(OperatorFactory())
    return client


def test_a_local_invite_answers_exactly_one_credential(ops) -> None:
    response = _post(ops, {"name": "Sample Ops", "email": "new.ops@dezky.example"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"subject", "user_id", "email", "temp_password"}
    assert response["Cache-Control"] == "no-store"
    assert User.objects.get(pk=body["user_id"]).platform_admin


def test_an_authentik_invite_with_a_recovery_flow_answers_the_link(ops, fake_authentik) -> None:
    fake_authentik.recovery_flow = True
    body = _post(ops, {"name": "Sample Ops", "email": "new.ops@dezky.example"}).json()
    assert set(body) == {"subject", "user_id", "email", "link"}
    assert body["link"].startswith(fake_authentik.url)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"name", "email"}),
        ({"name": "Sample", "email": "nope"}, {"email"}),
        ({"name": "", "email": "a@dezky.example"}, {"name"}),
        ({"name": "x" * 201, "email": "a@dezky.example"}, {"name"}),
    ],
)
def test_bad_fields_are_a_400_naming_them(ops, body, fields) -> None:
    response = _post(ops, body)
    assert response.status_code == 400
    assert fields <= response.json().keys()


def test_a_duplicate_is_a_409(ops) -> None:
    UserFactory(email="taken@dezky.example")
    response = _post(ops, {"name": "Sample", "email": "taken@dezky.example"})
    assert response.status_code == 409
    assert response.json()["field"] == "email"


def test_too_many_invites_is_a_429(ops, settings) -> None:
    settings.INVITES_PER_MINUTE = 1
    assert _post(ops, {"name": "A", "email": "a@dezky.example"}).status_code == 201
    response = _post(ops, {"name": "B", "email": "b@dezky.example"})
    assert response.status_code == 429
    assert "invites a minute" in response.json()["detail"]


def test_an_authentik_failure_is_a_502_with_its_message(ops, fake_authentik) -> None:
    fake_authentik.inject("POST", r"/core/users/$", "400")
    response = _post(ops, {"name": "Sample", "email": "new.ops@dezky.example"})
    assert response.status_code == 502
    assert "Injected validation failure." in response.json()["detail"]


def test_only_operators_may_invite(client) -> None:
    assert _post(client, {"name": "A", "email": "a@dezky.example"}).status_code == 401
    token = make_token("flags:read", "flags:evaluate", "tenants:read")
    assert _post(client, {"name": "A", "email": "a@dezky.example"},
                 Authorization=f"Bearer {token}").status_code == 403  # fmt: skip
    client.force_login(UserFactory())
    assert _post(client, {"name": "A", "email": "a@dezky.example"}).status_code == 403
    assert not User.objects.filter(email="a@dezky.example").exists()
