from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_login_and_checks_the_database(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_says_503_when_the_database_is_unreachable(client) -> None:
    with mock.patch("django.db.backends.utils.CursorWrapper.execute",
                    side_effect=OperationalError("connection refused")):  # fmt: skip
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
