"""Writes about users and their sessions; each one records its audit event in the
same transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit import services as audit
from core.changes import field_changes
from core.errors import Conflict
from operators.models import User, normalize_email

# What the admin and later pages may change with user_update; email is the login id
# and changes through its own flow, the password through user_set_password.
USER_EDITABLE_FIELDS = ("name", "platform_admin", "is_staff", "is_active", "is_superuser")


@transaction.atomic
def user_create(
    *,
    email: str,
    name: str,
    password: str | None = None,
    platform_admin: bool = False,
    is_staff: bool = False,
    is_active: bool = True,
    actor: User | None,
    ip: str | None = None,
) -> User:
    email = normalize_email(email)
    if User.objects.filter(email=email).exists():
        raise Conflict(f"A user with the email {email} already exists.", field="email")
    user = User(
        email=email,
        name=name.strip(),
        platform_admin=platform_admin,
        is_staff=is_staff,
        is_active=is_active,
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    audit.record(
        action="user.created",
        actor=actor,
        target=user,
        ip=ip,
        metadata={
            "email": user.email,
            "platform_admin": platform_admin,
            "is_staff": is_staff,
            "local_login": password is not None,
        },
    )
    return user


@transaction.atomic
def user_update(*, user: User, actor: User | None, ip: str | None = None, **changes: Any) -> User:
    unknown = set(changes) - set(USER_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"user_update cannot change {', '.join(sorted(unknown))}")
    user = User.objects.select_for_update().get(pk=user.pk)
    diff = field_changes({f: getattr(user, f) for f in changes}, changes)
    if not diff:
        return user
    for field, value in changes.items():
        setattr(user, field, value)
    user.full_clean(exclude=["password"])
    user.save(update_fields=[*diff.keys()])
    audit.record(action="user.updated", actor=actor, target=user, ip=ip, metadata={"changes": diff})
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str, actor: User | None, ip: str | None) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record(action="user.password_set", actor=actor, target=user, ip=ip)


@transaction.atomic
def user_logged_in(*, user: User, ip: str | None, method: str) -> None:
    audit.record(
        action="user.logged_in", actor=user, target=user, ip=ip, metadata={"method": method}
    )


@transaction.atomic
def user_login_failed(*, email: str, ip: str | None) -> None:
    # The attempted email is what an operator investigating a brute force needs;
    # the password never reaches this function.
    audit.record(
        action="user.login_failed",
        actor=None,
        target_type="user",
        target_repr=email[:254],
        ip=ip,
        metadata={"email": email[:254]},
    )


@transaction.atomic
def user_logged_out(*, user: User, ip: str | None) -> None:
    audit.record(action="user.logged_out", actor=user, target=user, ip=ip)


@transaction.atomic
def user_password_changed(*, user: User, actor: User | None, ip: str | None) -> None:
    """Record a password change made by Django's own password form (the admin's)."""
    audit.record(action="user.password_changed", actor=actor, target=user, ip=ip)
