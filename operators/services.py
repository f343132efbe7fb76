"""Writes about users and their sessions; each one records its audit event in the
same transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from audit import services as audit
from core import versions
from core.changes import field_changes
from core.errors import ApplicationError, Conflict
from operators.models import ServiceToken, TokenScope, User, normalize_email
from operators.tokens import new_token, token_hash

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


@transaction.atomic
def service_token_create(
    *, name: str, scopes: list[str], actor: User | None, ip: str | None = None
) -> tuple[ServiceToken, str]:
    """A new token for a service; the returned secret is shown once and never stored."""
    name = name.strip()
    unknown = set(scopes) - set(TokenScope.values)
    if not name:
        raise ApplicationError("Give the token a name.", field="name")
    if not scopes or unknown:
        raise ApplicationError(
            f"Choose scopes from {', '.join(TokenScope.values)}.", field="scopes"
        )
    if ServiceToken.objects.filter(name=name).exists():
        raise Conflict(f"A token named {name} already exists.", field="name")
    secret, prefix = new_token()
    token = ServiceToken.objects.create(
        name=name,
        prefix=prefix,
        token_hash=token_hash(secret),
        scopes=sorted(set(scopes)),
        created_by_email=actor.email if actor else "",
    )
    audit.record(
        action="service_token.created",
        actor=actor,
        target=token,
        ip=ip,
        metadata={"name": name, "scopes": token.scopes, "prefix": prefix},
    )
    versions.bump("service_tokens")
    return token, secret


@transaction.atomic
def service_token_revoke(*, token: ServiceToken, actor: User | None, ip: str | None = None) -> None:
    token = ServiceToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise Conflict(f"Token {token.name} is already revoked.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(
        action="service_token.revoked",
        actor=actor,
        target=token,
        ip=ip,
        metadata={"name": token.name, "prefix": token.prefix},
    )
    versions.bump("service_tokens")
