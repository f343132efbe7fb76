"""What signing out says: the console's own pages, in each identity mode."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.operators.factories import OperatorFactory
from tests.operators.test_oidc_login import ADMINS, oidc_login

pytestmark = pytest.mark.django_db


def test_local_mode_lands_on_the_login_page_saying_you_are_signed_out(client) -> None:
    client.force_login(OperatorFactory())
    confirm = client.get(reverse("operators:logout"))
    assert 'data-testid="logout-authentik-note"' not in confirm.text
    page = client.post(reverse("operators:logout"), follow=True)
    assert page.redirect_chain[-1][0] == reverse("operators:login")
    assert 'data-testid="login-notice"' in page.text
    assert "You are signed out." in page.text
    assert "Authentik" not in page.text.split('data-testid="login-notice"')[1].split("</div>")[0]
    # Shown once: a reload of the login page no longer says it.
    assert "You are signed out." not in client.get(reverse("operators:login")).text


def test_authentik_mode_says_beforehand_where_the_browser_goes(client, oidc_provider) -> None:
    oidc_login(client, oidc_provider, groups=[ADMINS])
    confirm = client.get(reverse("operators:logout"))
    note = confirm.text.split('data-testid="logout-authentik-note"')[1].split("</div>")[0]
    assert "ends your console session" in note
    assert "Authentik's sign-out page" in note
    assert "User Logout stage" in note
    assert "goes straight back in" in note
    response = client.post(reverse("operators:logout"))
    assert response.url.startswith(oidc_provider.discovery()["end_session_endpoint"] + "?")


def test_authentik_mode_without_a_provider_session_says_authentik_was_not_signed_out(
    client, oidc_provider
) -> None:
    # Break-glass: signed in with a password, there is no ID token to end a session with.
    client.force_login(OperatorFactory(is_staff=True))
    confirm = client.get(reverse("operators:logout"))
    assert 'data-testid="logout-authentik-note"' not in confirm.text
    page = client.post(reverse("operators:logout"), follow=True)
    assert page.redirect_chain[-1][0] == reverse("operators:login")
    assert "You are signed out of the console." in page.text
    assert "Your Authentik session was not ended here" in page.text
