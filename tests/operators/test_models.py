from __future__ import annotations

import pytest
from django.db import IntegrityError

from operators.models import User

pytestmark = pytest.mark.django_db


def test_create_user_stores_the_email_lower_case() -> None:
    user = User.objects.create_user("  Ops@Dezky.Example ", "pw-123456-long", name="Sample Ops")
    assert user.email == "ops@dezky.example"
    assert User.objects.get_by_natural_key("OPS@dezky.example") == user


def test_email_is_unique_whatever_its_case() -> None:
    User.objects.create_user("ops@dezky.example", name="Sample Ops")
    with pytest.raises(IntegrityError):
        User.objects.bulk_create([User(email="OPS@dezky.example", name="Other")])


def test_a_user_without_password_cannot_log_in_with_one() -> None:
    user = User.objects.create_user("sso@dezky.example", name="Sample SSO")
    assert not user.has_usable_password()


def test_initials_come_from_the_name() -> None:
    assert User(name="Ava Lindqvist", email="a@x.example").initials == "AL"
    assert User(name="", email="ops@x.example").initials == "OX"
