"""The embedded directory: operator accounts live only in this database, and the
hand-off is always a temporary password (there is no mail to send a link with)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from operators.directory.base import DirectoryUser
from operators.models import User, normalize_email


class LocalDirectory:
    kind = "local"

    def matches_settings(self) -> bool:
        return True

    def find_user_by_email(self, email: str) -> DirectoryUser | None:
        user = User.objects.filter(email=normalize_email(email)).first()
        return _user(user) if user else None

    def get_user(self, user_pk: int) -> DirectoryUser | None:
        user = User.objects.filter(pk=user_pk).first()
        return _user(user) if user else None

    def ensure_group(self, name: str, *, verify: bool = False) -> str:
        return name  # operators are marked by platform_admin, not by a group

    def create_user(
        self, *, email: str, name: str, group_ids: list[str], attributes: dict[str, Any]
    ) -> DirectoryUser:
        # The row is made inactive and without a password; the invite's final
        # transaction activates it together with its audit event.
        user = User.objects.create_user(normalize_email(email), None, name=name, is_active=False)
        return _user(user)

    def add_user_to_group(self, user_pk: int, group_id: str) -> None:
        return None

    def remove_user_from_group(self, user_pk: int, group_id: str) -> None:
        return None  # membership lives in this database (platform_admin, Membership)

    def set_user_active(self, user_pk: int, active: bool) -> None:
        # The local user's own is_active is the account; the service that calls this
        # sets it in the same transaction as its audit event.
        return None

    def recovery_link(self, user_pk: int) -> str | None:
        return None

    def set_password(self, user_pk: int, password: str) -> None:
        """Set a temporary password (the invite's hand-off): it must be changed at the
        first sign-in (operators.middleware holds the session on the change page) and
        stops working after TEMP_PASSWORD_HOURS if it never was."""
        user = User.objects.get(pk=user_pk)
        user.set_password(password)
        user.password_change_required = True
        user.password_expires_at = timezone.now() + timedelta(hours=settings.TEMP_PASSWORD_HOURS)
        user.save(update_fields=["password", "password_change_required", "password_expires_at"])


def _user(user: User) -> DirectoryUser:
    return DirectoryUser(
        pk=user.pk,
        username=user.email,
        email=user.email,
        name=user.name,
        is_active=user.is_active,
        subject=f"local:{user.pk}",
    )
