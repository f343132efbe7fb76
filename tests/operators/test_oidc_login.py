"""Operator login through the OpenID provider (the fake in tests/fakes/oidc.py), with
each of mozilla-django-oidc's known gaps closed."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from operators.models import User
from operators.oidc.backend import OperatorOIDCBackend
from tests.audit_helpers import watch_audit
from tests.fakes.authentik import FakeAuthentik
from tests.fakes.oidc import CLIENT_ID
from tests.fakes.server import FakeServer
from tests.operators.factories import OperatorFactory

pytestmark = pytest.mark.django_db
ADMINS = "dezky-platform-admins"


def start(client: Any, path: str | None = None) -> dict[str, str]:
    response = client.get(path or reverse("operators:oidc-login"))
    assert response.status_code == 302, response
    return {k: v[0] for k, v in parse_qs(urlsplit(response.url).query).items()}


def finish(client: Any, fake: Any, params: dict[str, str], **claims: Any) -> Any:
    code = fake.issue_code(nonce=params["nonce"], code_challenge=params["code_challenge"], **claims)
    return client.get(reverse("operators:oidc-callback"), {"code": code, "state": params["state"]})


def oidc_login(client: Any, fake: Any, **claims: Any) -> Any:
    return finish(client, fake, start(client), **claims)


def test_the_authorize_request_is_a_code_flow_with_pkce_state_and_nonce(
    client, oidc_provider
) -> None:
    response = client.get(reverse("operators:oidc-login"))
    assert response.url.startswith(oidc_provider.discovery()["authorization_endpoint"] + "?")
    params = start(client)
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["scope"] == "openid email profile"
    assert params["code_challenge_method"] == "S256"
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32
    assert params["redirect_uri"] == "http://testserver/oidc/callback/"


def test_an_operator_logs_in_through_the_provider(client, oidc_provider) -> None:
    with watch_audit() as log:
        response = oidc_login(client, oidc_provider, groups=[ADMINS, "staff"])
    assert response.status_code == 302
    assert response.url == reverse("console:overview")
    user = User.objects.get(oidc_subject="sample-subject-0001")
    assert (user.email, user.name, user.platform_admin) == ("ada@dezky.example", "Ada Sample", True)
    assert not user.has_usable_password()
    log.single("user.created")
    assert log.single("user.logged_in", actor=user).metadata == {"method": "oidc"}
    page = client.get("/")
    assert page.status_code == 200 and "Ada Sample" in page.text
    assert client.session["oidc_id_token"].count(".") == 2


def test_someone_outside_the_admin_group_gets_no_console(client, oidc_provider) -> None:
    oidc_login(client, oidc_provider, groups=["tenant-people"])
    assert client.get("/").status_code == 403


def test_leaving_the_admin_group_loses_the_console_at_the_next_login(client, oidc_provider) -> None:
    oidc_login(client, oidc_provider, groups=[ADMINS])
    assert client.get("/").status_code == 200
    with watch_audit() as log:
        oidc_login(client, oidc_provider, groups=[])
    assert log.single("user.updated").metadata["changes"] == {
        "platform_admin": {"before": True, "after": False}
    }
    assert client.get("/").status_code == 403


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "another-application"}, "InvalidAudience"),
        ({"iss": "http://127.0.0.1:9/application/o/other/"}, "InvalidIssuer"),
        ({"exp": int(time.time()) - 3600}, "ExpiredSignature"),
        ({"nonce": "a-nonce-from-another-login"}, "nonce"),
    ],
    ids=["wrong-audience", "wrong-issuer", "expired", "wrong-nonce"],
)
def test_an_id_token_that_is_not_for_us_is_refused(
    client, oidc_provider, claims: dict[str, Any], reason: str
) -> None:
    params = start(client)
    with watch_audit() as log:
        if "nonce" in claims:
            params = {**params, "nonce": claims.pop("nonce")}
        response = finish(client, oidc_provider, params, groups=[ADMINS], **claims)
    assert response.url == reverse("operators:login")
    assert "_auth_user_id" not in client.session
    event = log.single("user.login_failed")
    assert event.metadata["method"] == "oidc" and reason in event.metadata["reason"]
    assert not User.objects.exists()
    assert "not valid" in client.get(reverse("operators:login")).text


def test_a_state_is_good_for_one_callback_only(client, oidc_provider) -> None:
    params = start(client)
    finish(client, oidc_provider, params, groups=[ADMINS])
    client.logout()
    with watch_audit() as log:
        response = finish(client, oidc_provider, params, groups=[ADMINS])
    assert response.url == reverse("operators:login")
    assert "_auth_user_id" not in client.session
    log.single("user.login_failed")


def test_the_provider_saying_no_is_audited_and_shown(client, oidc_provider) -> None:
    params = start(client)
    with watch_audit() as log:
        response = client.get(
            reverse("operators:oidc-callback"), {"error": "access_denied", "state": params["state"]}
        )
    assert response.url == reverse("operators:login")
    assert log.single("user.login_failed").metadata["reason"] == "provider: access_denied"


def test_a_deactivated_user_loses_the_session_on_the_next_request(client, oidc_provider) -> None:
    oidc_login(client, oidc_provider, groups=[ADMINS])
    user = User.objects.get()
    assert client.get("/").status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith(reverse("operators:login"))
    assert OperatorOIDCBackend().get_user(user.pk) is None


def test_a_deactivated_user_cannot_log_in_again(client, oidc_provider) -> None:
    oidc_login(client, oidc_provider, groups=[ADMINS])
    User.objects.update(is_active=False)
    client.logout()
    with watch_audit() as log:
        oidc_login(client, oidc_provider, groups=[ADMINS])
    assert log.single("user.login_failed").metadata["reason"] == "inactive"
    assert "_auth_user_id" not in client.session


# --- linking an existing account ------------------------------------------------------


def test_an_unverified_email_does_not_take_over_an_existing_account(client, oidc_provider) -> None:
    existing = OperatorFactory(email="ada@dezky.example")
    with watch_audit() as log:
        oidc_login(client, oidc_provider, email_verified=False, groups=[ADMINS])
    assert log.single("user.login_failed").metadata["reason"] == "email_unverified"
    existing.refresh_from_db()
    assert existing.oidc_subject is None
    assert "_auth_user_id" not in client.session


def test_a_verified_email_links_the_account_once(client, oidc_provider) -> None:
    existing = OperatorFactory(email="ada@dezky.example")
    with watch_audit() as log:
        oidc_login(client, oidc_provider, email_verified=True, groups=[ADMINS])
    assert log.single("user.oidc_linked", target=existing).metadata == {"via": "verified_email"}
    existing.refresh_from_db()
    assert existing.oidc_subject == "sample-subject-0001"
    # Later the subject is what counts: a changed email follows the provider.
    client.logout()
    oidc_login(client, oidc_provider, email="ada.new@dezky.example", groups=[ADMINS])
    existing.refresh_from_db()
    assert existing.email == "ada.new@dezky.example"
    assert User.objects.count() == 1


def test_an_email_linked_to_another_subject_is_refused(client, oidc_provider) -> None:
    OperatorFactory(email="ada@dezky.example", oidc_subject="someone-else")
    with watch_audit() as log:
        oidc_login(client, oidc_provider, email_verified=True, groups=[ADMINS])
    assert log.single("user.login_failed").metadata["reason"] == "email_linked_elsewhere"


def test_an_invited_user_is_linked_when_authentik_confirms_the_subject(
    client, oidc_provider, settings
) -> None:
    with FakeServer(FakeAuthentik()) as authentik:
        settings.AUTHENTIK_URL, settings.AUTHENTIK_TOKEN = authentik.url, authentik.token
        account = authentik.add_user("ada@dezky.example", name="Ada Sample")
        invited = OperatorFactory(email="ada@dezky.example", authentik_pk=account["pk"])
        # Someone else who set the same (unverified) email in Authentik gets nowhere.
        oidc_login(client, oidc_provider, sub="an-impostor", email_verified=False)
        assert "_auth_user_id" not in client.session
        with watch_audit() as log:
            oidc_login(client, oidc_provider, sub=account["uid"], groups=[ADMINS])
    assert log.single("user.oidc_linked", target=invited).metadata == {"via": "invite"}
    invited.refresh_from_db()
    assert invited.oidc_subject == account["uid"]
    assert client.get("/").status_code == 200


def test_userinfo_about_another_subject_is_refused(client, oidc_provider) -> None:
    oidc_provider.userinfo_overrides = {"sub": "someone-else"}
    with watch_audit() as log:
        oidc_login(client, oidc_provider, groups=[ADMINS])
    assert log.single("user.login_failed").metadata["reason"] == "userinfo_subject_mismatch"


# --- session refresh and logout -----------------------------------------------------


def _expire(client: Any) -> None:
    session = client.session
    session["oidc_id_token_expiration"] = time.time() - 1
    session.save()


def test_an_expired_session_is_renewed_silently_through_the_provider(client, oidc_provider) -> None:
    oidc_login(client, oidc_provider, groups=[ADMINS])
    _expire(client)
    params = start(client, "/flags/")
    assert params["prompt"] == "none"
    with watch_audit() as log:
        response = finish(client, oidc_provider, params, groups=[])
    assert response.url == "/flags/"
    log.single("user.updated")  # lost the admin group: audited, and no new login event
    assert not log.of("user.logged_in")
    assert client.get("/flags/").status_code == 403


def test_an_htmx_request_with_an_expired_session_is_told_to_reload(client, oidc_provider) -> None:
    oidc_login(client, oidc_provider, groups=[ADMINS])
    _expire(client)
    response = client.get(
        "/flags/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/flags/"
    )
    assert response.status_code == 401
    assert response["HX-Redirect"] == "http://testserver/flags/"
    elsewhere = client.get("/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="https://evil.example/")
    assert elsewhere["HX-Redirect"] == reverse("console:overview")
    assert client.post("/flags/").status_code == 401


def test_logout_ends_the_session_at_the_provider(client, oidc_provider) -> None:
    oidc_login(client, oidc_provider, groups=[ADMINS])
    id_token = client.session["oidc_id_token"]
    user = User.objects.get()
    with watch_audit() as log:
        response = client.post(reverse("operators:logout"))
    log.single("user.logged_out", actor=user)
    target = urlsplit(response.url)
    assert response.url.startswith(oidc_provider.discovery()["end_session_endpoint"] + "?")
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["id_token_hint"] == id_token
    assert query["post_logout_redirect_uri"] == "http://testserver/login/"
    assert "_auth_user_id" not in client.session


def test_a_provider_that_cannot_be_reached_gets_a_message(client, oidc_provider, settings) -> None:
    settings.OIDC_ISSUER = "http://127.0.0.1:9/application/o/gone/"
    response = client.get(reverse("operators:oidc-login"), follow=True)
    assert "cannot be reached" in response.text


def test_oidc_urls_do_not_exist_in_local_mode(client) -> None:
    assert client.get(reverse("operators:oidc-login")).status_code == 404
    assert client.get(reverse("operators:oidc-callback")).status_code == 404


# --- the password form in Authentik mode ----------------------------------------------

PASSWORD = "correct horse battery"


def test_the_password_form_is_off_in_authentik_mode(client, oidc_provider) -> None:
    OperatorFactory(email="ops@dezky.example", is_staff=True)
    page = client.get(reverse("operators:login"))
    assert 'data-testid="login-authentik"' in page.text and 'name="password"' not in page.text
    response = client.post(
        reverse("operators:login"), {"email": "ops@dezky.example", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_break_glass_lets_staff_in_by_password_and_is_audited(
    client, oidc_provider, settings
) -> None:
    settings.BREAK_GLASS_LOGIN = True
    staff = OperatorFactory(email="ops@dezky.example", is_staff=True)
    OperatorFactory(email="not-staff@dezky.example")
    assert 'name="password"' in client.get(reverse("operators:login")).text
    with watch_audit() as log:
        client.post(reverse("operators:login"), {"email": "not-staff@dezky.example",
                                                 "password": PASSWORD})  # fmt: skip
        assert "_auth_user_id" not in client.session
        client.post(
            reverse("operators:login"), {"email": "ops@dezky.example", "password": PASSWORD}
        )
    assert log.single("user.login_failed").metadata["method"] == "break-glass"
    assert log.single("user.logged_in", actor=staff).metadata == {"method": "break-glass"}
    assert client.get("/").status_code == 200


# --- rate limit ---------------------------------------------------------------------


def test_failed_logins_are_limited_per_account(client, settings) -> None:
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    OperatorFactory(email="ops@dezky.example")
    for _ in range(3):
        client.post(reverse("operators:login"), {"email": "ops@dezky.example", "password": "x"})
    with watch_audit() as log:
        response = client.post(
            reverse("operators:login"), {"email": "OPS@dezky.example", "password": PASSWORD}
        )
    assert response.status_code == 429
    assert "Too many failed sign-ins for this account" in response.text
    assert "_auth_user_id" not in client.session
    throttled = log.single("user.login_throttled")
    assert throttled.metadata["attempts"] == 1
    assert throttled.target_repr == "ops@dezky.example"
    # Another account from the same address is not affected.
    OperatorFactory(email="other@dezky.example")
    ok = client.post(reverse("operators:login"), {"email": "other@dezky.example",
                                                  "password": PASSWORD})  # fmt: skip
    assert ok.status_code == 302


def test_failed_logins_are_limited_per_address(client, settings) -> None:
    settings.LOGIN_FAILURES_PER_IP = 3
    for n in range(3):
        client.post(reverse("operators:login"), {"email": f"guess{n}@x.example", "password": "x"})
    OperatorFactory(email="ops@dezky.example")
    response = client.post(
        reverse("operators:login"), {"email": "ops@dezky.example", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "from your network address" in response.text


def test_the_admin_has_no_password_form_of_its_own(client, oidc_provider) -> None:
    staff = OperatorFactory(email="ops@dezky.example", is_staff=True)
    response = client.get(reverse("admin:login") + "?next=/admin/")
    assert response.status_code == 302
    assert response.url == reverse("operators:login") + "?next=%2Fadmin%2F"
    posted = client.post(reverse("admin:login"), {"username": staff.email, "password": PASSWORD})
    assert posted.status_code == 302 and "_auth_user_id" not in client.session
