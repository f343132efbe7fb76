"""An operator's life after the invite: deactivating, reactivating, and handing a
new credential to one who never signed in.

Like invites (operators/invites.py), no database transaction is held open across a
call to Authentik. The rules are checked first (under a row lock, then released),
Authentik is called, and only then is the local user changed together with its
audit event, in one transaction that checks the rules again under the lock. If
Authentik fails, nothing local changes and the error says exactly which of its
calls went through, so the operator knows what a retry has left to do (every call
is idempotent: deactivating a deactivated account or removing a non-member is fine).

TRICKY: the last-operator rule counts the active operators under `select_for_update`
on their rows. Two operators deactivating each other at the same moment both wait
for the lock; the second then sees the first's change and is refused, so the
platform can never be left without an active operator. If that second refusal
comes after its Authentik calls, they are undone (the account is reactivated and
put back in the group) before the refusal is raised.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from audit import services as audit
from core.errors import Conflict, NotFound, RateLimited, UpstreamError
from core.ratelimit import allow
from operators.directory import Directory, DirectoryError, deadline, get_directory
from operators.invites import hand_over_credential
from operators.models import User
from operators.passwords import temporary_password
from operators.sessions import end_user_sessions


@dataclass(frozen=True)
class ResendResult:
    """A new first-sign-in credential: exactly one of `link` and `temp_password`."""

    user_id: int
    email: str
    link: str | None = None
    temp_password: str | None = None

    @property
    def handoff(self) -> str:
        return "link" if self.link else "temp-password"


# --- why an action does not apply (the team page shows the same words) ------------


def deactivate_refusal(*, user: User, actor: User, active_count: int) -> str:
    """Why `actor` cannot deactivate `user` now, or "" when they can."""
    if user.pk == actor.pk:
        return "You cannot deactivate yourself."
    if not user.is_active:
        return "They are inactive already."
    if active_count <= 1:
        return "The last active operator cannot be deactivated."
    return ""


def reactivate_refusal(*, user: User, actor: User) -> str:
    if user.pk == actor.pk:
        return "You cannot reactivate yourself."
    if user.is_active:
        return "They are active already."
    return ""


def resend_refusal(*, user: User) -> str:
    if not user.is_active:
        return "They are inactive; reactivate them first."
    if user.last_login is not None:
        return "They have signed in already."
    return ""


def _locked_active_count() -> int:
    # The lock is what makes the count safe against a concurrent deactivation.
    return len(
        User.objects.select_for_update()
        .filter(platform_admin=True, is_active=True)
        .values_list("pk", flat=True)
    )


def _locked_operator(user: User) -> User:
    fresh = User.objects.select_for_update().filter(pk=user.pk, platform_admin=True).first()
    if fresh is None:
        raise NotFound("That operator is gone: they are no longer on the team.")
    return fresh


def _check_deactivate(user: User, actor: User) -> User:
    """Inside a transaction: the locked user, or a Conflict saying why not."""
    active = _locked_active_count()
    fresh = _locked_operator(user)
    reason = deactivate_refusal(user=fresh, actor=actor, active_count=active)
    if reason:
        raise Conflict(reason)
    return fresh


def _check_reactivate(user: User, actor: User) -> User:
    fresh = _locked_operator(user)
    reason = reactivate_refusal(user=fresh, actor=actor)
    if reason:
        raise Conflict(reason)
    return fresh


# --- Authentik --------------------------------------------------------------------


def _account_pk(user: User, directory: Directory) -> int | None:
    """The user's Authentik account, None when it has none (made before Authentik)."""
    if directory.kind == "local":
        return None
    if user.authentik_pk:
        return user.authentik_pk
    account = directory.find_user_by_email(user.email)
    return account.pk if account else None


def _set_in_authentik(user: User, directory: Directory, *, active: bool) -> int | None:
    """Deactivate: the account off, then out of the operators' group. Reactivate: the
    account on, then back in the group. Returns the account's pk (None: no account)."""
    then = "inactive" if active else "active"
    verb = "reactivate" if active else "deactivate"
    try:
        pk = _account_pk(user, directory)
    except DirectoryError as err:
        raise UpstreamError(
            f"Authentik could not be asked for the account of {user.email}: {err.sentence} "
            f"Nothing was changed; the console still lists them as {then}; retry.",
            extra={"upstream_status": err.status},
        ) from None
    if pk is None:
        return None
    try:
        directory.set_user_active(pk, active)
    except DirectoryError as err:
        raise UpstreamError(
            f"Authentik refused to {verb} the account: {err.sentence} Nothing was changed; "
            f"the console still lists them as {then}; retry.",
            extra={"upstream_status": err.status},
        ) from None
    try:
        group_id = directory.ensure_group(settings.AUTHENTIK_ADMIN_GROUP)
        if active:
            directory.add_user_to_group(pk, group_id)
        else:
            directory.remove_user_from_group(pk, group_id)
    except DirectoryError as err:
        step = "adding it back to" if active else "removing it from"
        raise UpstreamError(
            f"Authentik {verb}d the account but {step} the operators' group failed: "
            f"{err.message}; the console still lists them as {then}; retry.",
            extra={"upstream_status": err.status, "partial": True},
        ) from None
    return pk


def _authentik_step(
    user: User, directory: Directory, *, active: bool, actor: User, ip: str | None
) -> int | None:
    """_set_in_authentik within the invite deadline. A failure after Authentik changed
    the account (it is off but still in the group, or the reverse) is a change made on
    the platform, so it is recorded, though nothing changed here."""
    try:
        with deadline(settings.AUTHENTIK_INVITE_DEADLINE_SECONDS):
            return _set_in_authentik(user, directory, active=active)
    except UpstreamError as err:
        if err.extra.get("partial"):
            with transaction.atomic():
                audit.record(
                    action="platform.operator_change_partial",
                    actor=actor,
                    target=user,
                    ip=ip,
                    metadata={
                        "email": user.email,
                        "change": "reactivate" if active else "deactivate",
                        "error": err.message[:500],
                    },
                )
        raise


def _undo_in_authentik(user: User, directory: Directory, *, active: bool) -> str:
    """Put the Authentik account back as it was (after a refusal that came late);
    what could not be undone, in words, or ""."""
    try:
        _set_in_authentik(user, directory, active=active)
    except UpstreamError as err:
        return f" Undoing it in Authentik failed too: {err.message}"
    return ""


# --- the services -----------------------------------------------------------------


def operator_deactivate(*, user: User, actor: User, ip: str | None = None) -> User:
    """Take an operator's access away: in Authentik (account off, out of the group) and
    here (inactive), then end their sessions at once."""
    directory = get_directory()
    with transaction.atomic():
        _check_deactivate(user, actor)  # fail fast, before calling Authentik
    account_pk = _authentik_step(user, directory, active=False, actor=actor, ip=ip)
    try:
        with transaction.atomic():
            fresh = _check_deactivate(user, actor)  # again: something may have changed
            fresh.is_active = False
            fresh.save(update_fields=["is_active"])
            audit.record(
                action="platform.operator_deactivated",
                actor=actor,
                target=fresh,
                ip=ip,
                metadata=_metadata(fresh, directory, account_pk),
            )
    except Conflict as err:
        undone = ""
        if account_pk:
            with deadline(settings.AUTHENTIK_INVITE_DEADLINE_SECONDS):
                undone = _undo_in_authentik(user, directory, active=True)
        raise Conflict(err.message + undone) from None
    end_user_sessions(fresh)
    return fresh


def operator_reactivate(*, user: User, actor: User, ip: str | None = None) -> User:
    """Give a deactivated operator their access back (Authentik account on and in the
    group, active here). Their old sessions stay ended: they sign in again."""
    directory = get_directory()
    with transaction.atomic():
        _check_reactivate(user, actor)
    account_pk = _authentik_step(user, directory, active=True, actor=actor, ip=ip)
    try:
        with transaction.atomic():
            fresh = _check_reactivate(user, actor)
            fresh.is_active = True
            fresh.save(update_fields=["is_active"])
            audit.record(
                action="platform.operator_reactivated",
                actor=actor,
                target=fresh,
                ip=ip,
                metadata=_metadata(fresh, directory, account_pk),
            )
    except Conflict as err:
        # Only "already active" can come late, and then Authentik should say active too.
        raise Conflict(err.message) from None
    end_user_sessions(fresh)
    return fresh


def operator_resend_invite(*, user: User, actor: User, ip: str | None = None) -> ResendResult:
    """A new first-sign-in credential for an active operator who never signed in: a
    recovery link when Authentik's brand has a recovery flow, else a new temporary
    password. Shown once to the caller; never stored, never in the audit log."""
    if not allow(f"invite:{actor.pk}", limit=settings.INVITES_PER_MINUTE):
        raise RateLimited(
            f"At most {settings.INVITES_PER_MINUTE} invites a minute; wait a moment and retry."
        )
    directory = get_directory()
    with transaction.atomic():
        fresh = _locked_operator(user)
        reason = resend_refusal(user=fresh)
        if reason:
            raise Conflict(reason)
    # The local directory makes no HTTP call: its new password commits with the event.
    with transaction.atomic() if directory.kind == "local" else nullcontext():
        with deadline(settings.AUTHENTIK_INVITE_DEADLINE_SECONDS):
            link, temp_password, account_pk = _new_credential(fresh, directory)
        with transaction.atomic():
            fresh = _locked_operator(user)
            reason = resend_refusal(user=fresh)
            if reason:
                # Signed in meanwhile: the new credential works but nobody is shown it.
                raise Conflict(reason)
            audit.record(
                action="platform.invite_resent",
                actor=actor,
                target=fresh,
                ip=ip,
                metadata={
                    **_metadata(fresh, directory, account_pk),
                    "handoff": "link" if link else "temp-password",
                },
            )
    return ResendResult(user_id=fresh.pk, email=fresh.email, link=link, temp_password=temp_password)


def _new_credential(user: User, directory: Directory) -> tuple[str | None, str | None, int | None]:
    if directory.kind == "local":
        temporary = temporary_password()
        directory.set_password(user.pk, temporary)
        return None, temporary, None
    try:
        pk = _account_pk(user, directory)
        if pk is None:
            raise Conflict(
                f"{user.email} has no account in Authentik to hand a credential for; "
                "invite them again or add the account in Authentik."
            )
        link, password = hand_over_credential(directory, pk)
        return link, password, pk
    except DirectoryError as err:
        raise UpstreamError(
            f"Authentik refused or failed: {err.sentence} No new credential was made; retry.",
            extra={"upstream_status": err.status},
        ) from None


def _metadata(user: User, directory: Directory, account_pk: int | None) -> dict[str, object]:
    return {"email": user.email, "directory": directory.kind, "directory_user_pk": account_pk}
