"""An anonymous caller cannot grow the audit log by failing to sign in."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tests.operators.factories import OperatorFactory

pytestmark = pytest.mark.django_db


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_300_refused_sign_ins_are_counted_not_each_recorded(client: Any, settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_ACCOUNT = 5
    OperatorFactory(email="locked@dezky.example")
    for _ in range(300):
        response = client.post(
            reverse("operators:login"), {"email": "locked@dezky.example", "password": "wrong"}
        )
    assert response.status_code == 429

    failed = _events("user.login_failed")
    throttled = _events("user.login_throttled")
    assert len(failed) == 5  # the failures the limit allows, each recorded
    # 295 refusals: recorded at the 1st, 10th and 100th, each with the count so far.
    assert [event.metadata["attempts"] for event in throttled] == [1, 10, 100]
    assert {event.target_repr for event in throttled} == {"locked@dezky.example"}


def test_a_new_window_starts_a_new_count(client: Any, settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_ACCOUNT = 1
    OperatorFactory(email="locked@dezky.example")
    form = {"email": "locked@dezky.example", "password": "wrong"}
    for _ in range(3):
        client.post(reverse("operators:login"), form)
    from django.core.cache import caches

    caches["coordination"].clear()  # the window ends
    for _ in range(3):
        client.post(reverse("operators:login"), form)
    assert [e.metadata["attempts"] for e in _events("user.login_throttled")] == [1, 1]


def test_failing_oidc_callbacks_are_counted_per_address(client: Any, oidc_provider: Any) -> None:
    for _ in range(120):
        response = client.get(reverse("operators:oidc-callback"), {"error": "access_denied"})
    assert response.url == reverse("operators:login")
    failed = _events("user.login_failed")
    assert [event.metadata["attempts"] for event in failed] == [1, 10, 100]
