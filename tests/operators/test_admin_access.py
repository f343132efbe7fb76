"""The Django admin: staff get it, other signed-in users get the 403 page (not a loop
through the login page), the anonymous get the login page."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.operators.factories import OperatorFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
STAFF_ONLY = "The Django admin is for staff accounts only"


@pytest.mark.parametrize("factory", [OperatorFactory, UserFactory], ids=["operator", "member"])
def test_a_signed_in_non_staff_user_gets_the_403_page_not_a_loop(client: Any, factory: Any) -> None:
    client.force_login(factory())
    response = client.get("/admin/", follow=True)
    # One hop to the admin's login, which answers 403 there: never back to /login/.
    assert [url for url, _ in response.redirect_chain] == ["/admin/login/?next=/admin/"]
    assert response.status_code == 403
    assert STAFF_ONLY in response.text
    assert 'data-testid="forbidden"' in response.text


def test_the_admin_login_answers_403_to_a_signed_in_non_staff_user(client: Any) -> None:
    client.force_login(OperatorFactory())
    response = client.get(reverse("admin:login"))
    assert response.status_code == 403
    assert STAFF_ONLY in response.text


def test_a_staff_user_gets_the_admin(client: Any) -> None:
    client.force_login(StaffFactory())
    assert client.get("/admin/").status_code == 200
    # Sent to the admin's login anyway (an old bookmark): back to the admin.
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response.url == reverse("admin:index")


def test_an_anonymous_caller_goes_to_the_console_login(client: Any) -> None:
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == f"{reverse('operators:login')}?next=%2Fadmin%2F"
    assert response.status_code == 200
    assert 'name="password"' in response.text
