"""Writes about users and their sessions; each one records its audit event in the
same transaction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit import services as audit
from core import ratelimit, versions
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
def user_login_failed(
    *,
    email: str,
    ip: str | None,
    method: str | None = None,
    reason: str | None = None,
    counted: bool = False,
) -> None:
    """Record a failed sign-in. Password failures are recorded each (the per-account
    and per-address limits bound them); `counted=True` is for failures nothing else
    bounds (an anonymous caller can make the OIDC callback fail at will): those are
    counted per account, address and reason, and recorded only at the 1st, 10th,
    100th... attempt of a window, with the count."""
    attempts = None
    if counted:
        attempts = _count_attempt(f"login-failed:{reason}:{email}:{ip}")
        if attempts is None:
            return
    # The attempted email is what an operator investigating a brute force needs;
    # the password never reaches this function.
    metadata: dict[str, Any] = {"email": email[:254]}
    if method:
        metadata["method"] = method
    if reason:
        metadata["reason"] = reason[:300]
    if attempts is not None:
        metadata.update(attempts=attempts, window_seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    audit.record(
        action="user.login_failed",
        actor=None,
        target_type="user",
        target_repr=email[:254],
        ip=ip,
        metadata=metadata,
    )


@transaction.atomic
def user_login_refused(*, email: str, ip: str | None, method: str) -> None:
    """A sign-in refused by the rate limit, before any password check. Counted, not each
    recorded: one event at the 1st, 10th, 100th... refusal of a window per account
    and address, so the log grows with the logarithm of an attack, not with it."""
    attempts = _count_attempt(f"login-refused:{email}:{ip}")
    if attempts is None:
        return
    audit.record(
        action="user.login_throttled",
        actor=None,
        target_type="user",
        target_repr=email[:254],
        ip=ip,
        metadata={
            "email": email[:254],
            "method": method,
            "attempts": attempts,
            "window_seconds": settings.LOGIN_FAILURE_WINDOW_SECONDS,
        },
    )


def _count_attempt(key: str) -> int | None:
    """Count one attempt of `key` in the sign-in window; the count when it is one to
    record (1, 10, 100, ...), else None."""
    # Hashed: the parts come from callers (emails, provider error words) and cache
    # backends limit what a key may contain.
    digest = hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]
    attempts = ratelimit.hit(
        f"attempts:{digest}", window_seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS
    )
    return attempts if str(attempts).rstrip("0") == "1" else None


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


# --- Login through the OpenID provider -------------------------------------------


class LoginRefused(ApplicationError):
    """The provider vouched for someone this console will not let in; `reason` is a
    short code for the audit log, the message is for the person."""

    status_code = 403

    def __init__(self, message: str, *, reason: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class OidcIdentity:
    """What the provider said about the person, from a verified ID token and userinfo."""

    subject: str
    email: str
    email_verified: bool
    name: str
    groups: tuple[str, ...]

    @property
    def is_platform_admin(self) -> bool:
        return settings.AUTHENTIK_ADMIN_GROUP in self.groups


@transaction.atomic
def user_oidc_sync(
    *, identity: OidcIdentity, invite_confirmed_pk: int | None = None, ip: str | None = None
) -> User:
    """The local user for a provider identity: found by `sub`, else linked once by email,
    else created; name, email and `platform_admin` (the admin group) follow the provider.

    Linking by email needs either `email_verified` from the provider or proof that
    the identity is the Authentik account an invite made for that user
    (`invite_confirmed_pk`: the caller asked Authentik, outside this transaction,
    which account this subject is). Authentik sends `email_verified: false` by
    default and lets users edit their email, so an unverified email alone never
    takes over an existing account.
    """
    user = User.objects.select_for_update().filter(oidc_subject=identity.subject).first()
    if user is None:
        if not identity.email:
            raise LoginRefused(
                "The identity provider sent no email address for your account.", reason="no_email"
            )
        user = User.objects.select_for_update().filter(email=identity.email).first()
        if user is None:
            return _oidc_create(identity, ip=ip)
        if user.oidc_subject:
            raise LoginRefused(
                f"The account {identity.email} here is linked to another identity.",
                reason="email_linked_elsewhere",
            )
        invited = invite_confirmed_pk is not None and invite_confirmed_pk == user.authentik_pk
        if not (identity.email_verified or invited):
            raise LoginRefused(
                f"An account for {identity.email} exists here, but the identity provider "
                "has not verified that this email is yours. Ask an operator to link it.",
                reason="email_unverified",
            )
        user.oidc_subject = identity.subject
        user.save(update_fields=["oidc_subject"])
        audit.record(
            action="user.oidc_linked",
            actor=None,
            target=user,
            ip=ip,
            metadata={"via": "invite" if invited else "verified_email"},
        )
    if not user.is_active:
        raise LoginRefused("This account is deactivated.", reason="inactive")
    _oidc_update(user, identity, ip=ip)
    return user


def _oidc_create(identity: OidcIdentity, *, ip: str | None) -> User:
    user = User(
        email=identity.email,
        name=identity.name,
        oidc_subject=identity.subject,
        platform_admin=identity.is_platform_admin,
    )
    user.set_unusable_password()  # they sign in through the provider
    user.full_clean(exclude=["password"])
    user.save()
    audit.record(
        action="user.created",
        actor=None,
        target=user,
        ip=ip,
        metadata={"email": user.email, "platform_admin": user.platform_admin, "via": "oidc"},
    )
    return user


def _oidc_update(user: User, identity: OidcIdentity, *, ip: str | None) -> None:
    wanted: dict[str, Any] = {"platform_admin": identity.is_platform_admin}
    if identity.name:
        wanted["name"] = identity.name
    email_taken = User.objects.filter(email=identity.email).exclude(pk=user.pk).exists()
    if identity.email and not email_taken:
        wanted["email"] = identity.email
    diff = field_changes({f: getattr(user, f) for f in wanted}, wanted)
    if not diff:
        return
    for field, value in wanted.items():
        setattr(user, field, value)
    user.full_clean(exclude=["password"])
    user.save(update_fields=[*diff.keys()])
    audit.record(
        action="user.updated",
        actor=None,
        target=user,
        ip=ip,
        metadata={"changes": diff, "via": "oidc"},
    )
